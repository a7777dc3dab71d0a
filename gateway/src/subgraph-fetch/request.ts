// One attempt of a fetch: POST the body on the origin's pool and judge the answer — a GraphQL
// response (a 4xx carrying GraphQL errors included) is settled, anything else is thrown as
// a classified failure (classification.ts).
import type { Pool } from 'undici';
import { type CacheHint, parseCacheControl } from './cache-hints.ts';
import { HttpStatusError, InvalidResponseError, parseRetryAfter } from './classification.ts';
import type { GatewayResponse } from './errors.ts';

export interface Settled {
  /** The body as received: what deduplicated callers parse for their own copy. */
  text: string;
  parsed: GatewayResponse;
  /** The subgraph's cache policy from its Cache-Control header; undefined without one. */
  cacheHint: CacheHint | undefined;
}

function isGraphQLResponse(value: unknown): value is GatewayResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { data, errors } = value as { data?: unknown; errors?: unknown };
  return data !== undefined || Array.isArray(errors);
}

export async function postGraphQL(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<Settled> {
  const response = await pool.request({ path, method: 'POST', headers, body, signal });
  const status = response.statusCode;
  if (status >= 500 || status === 429) {
    await response.body.dump();
    throw new HttpStatusError(status, status === 429 ? parseRetryAfter(response.headers['retry-after']) : undefined);
  }
  const text = await response.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  // A 4xx carrying GraphQL errors (e.g. a 400 validation failure) is an answer: pass it on.
  if (isGraphQLResponse(parsed)) {
    const header = response.headers['cache-control'];
    return { text, parsed, cacheHint: header === undefined ? undefined : parseCacheControl(header) };
  }
  throw status >= 300 ? new HttpStatusError(status) : new InvalidResponseError();
}
