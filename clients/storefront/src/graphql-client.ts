// GraphQL over HTTP to the gateway, cross-origin. Production builds send each operation's
// persisted id (Apollo's persistedQuery extension; the id is the trusted-documents manifest
// entry the typed document carries), development builds the text. Every request names the
// client (apollographql-client-name/-version) and, when signed in, the user's token.
//
// Transient failures — the gateway unreachable or restarting (network error, 502/503/504,
// SERVICE_UNAVAILABLE) — are retried with exponential backoff and full jitter until they
// succeed or the caller aborts, so a page left open across a gateway restart recovers on its
// own. Mutations are retried too: the storefront's are idempotent (PlaceOrder carries its
// idempotency key). Listeners hear when the gateway goes away and comes back.
import { CLIENT_NAME, CLIENT_VERSION, GATEWAY_URL, PERSISTED_ONLY } from './config.ts';
import type { TypedDocumentString } from './generated/graphql.ts';

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResult<T> {
  data: T | null;
  errors: GraphQLError[];
}

export type Connectivity = { online: true } | { online: false; attempt: number; retryInMs: number; reason: string };

const listeners = new Set<(state: Connectivity) => void>();
let online = true;

/** Hear when the gateway becomes unreachable (with the next retry) and when it is back. */
export function onConnectivity(listener: (state: Connectivity) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function announce(state: Connectivity): void {
  online = state.online;
  for (const listener of listeners) listener(state);
}

/** The token sent as `Authorization: Bearer …` (null: anonymous). */
let token: string | null = null;
export function setToken(value: string | null): void {
  token = value;
}

/** Backoff: first retry within 250 ms, doubling, capped at 5 s (full jitter). */
export const RETRY_BASE_MS = 250;
export const RETRY_MAX_MS = 5000;

class Transient extends Error {}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

function body(document: TypedDocumentString<unknown, unknown>, variables: unknown): string {
  const hash = document.__meta__?.hash as string | undefined;
  const operationName = /(?:query|mutation|subscription)\s+(\w+)/.exec(document.toString())?.[1];
  if (PERSISTED_ONLY) {
    if (!hash) throw new Error(`${operationName} has no persisted id: run pnpm codegen`);
    return JSON.stringify({
      operationName,
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
  }
  return JSON.stringify({ operationName, query: document.toString(), variables });
}

async function attempt<T>(payload: string, signal?: AbortSignal): Promise<GraphQLResult<T>> {
  let response: Response;
  try {
    response = await fetch(GATEWAY_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        'apollographql-client-name': CLIENT_NAME,
        'apollographql-client-version': CLIENT_VERSION,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: payload,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Transient('the gateway cannot be reached');
  }
  if ([502, 503, 504].includes(response.status)) throw new Transient(`the gateway answered ${response.status}`);
  let json: { data?: T | null; errors?: GraphQLError[] };
  try {
    json = await response.json();
  } catch {
    throw new Transient(`the gateway answered ${response.status} without JSON`);
  }
  const errors = json.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) throw new Transient('the gateway is starting');
  return { data: json.data ?? null, errors };
}

/**
 * Runs one operation; resolves with its data and errors (GraphQL errors are results, not
 * exceptions). Retries transient failures until they pass or `signal` aborts.
 */
export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
): Promise<GraphQLResult<TResult>> {
  const payload = body(document as TypedDocumentString<unknown, unknown>, variables);
  for (let n = 1; ; n++) {
    try {
      const result = await attempt<TResult>(payload, signal);
      if (!online) announce({ online: true });
      return result;
    } catch (error) {
      if (!(error instanceof Transient)) throw error;
      const retryInMs = Math.round(Math.random() * Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (n - 1)));
      announce({ online: false, attempt: n, retryInMs, reason: error.message });
      await sleep(retryInMs, signal);
    }
  }
}
