// POST /admin/cache/purge: drops cached responses by entity or by type. Callers: operators
// (a client JWT with the `admin` scope) and, without Redis, the subgraphs' outbox relays (the
// gateway-signed service identity with the `cache:invalidate` scope). Body: an invalidation
// batch `{ entities?: [{ typename, id }], types?: [typename] }`, or the shorthand
// `{ typename, id? }` (no id: the whole type). Answers `{ purged: <entries deleted> }`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALIDATE_SCOPE, type InvalidationBatch, invalidationBatchSchema } from '@trellis/cache/invalidation';
import { ErrorCode } from '@trellis/errors';
import { BodyTooLarge, methodNotAllowed, readBody, requestError, sendJson } from '@trellis/http';
import { createClientVerifier, createViewerVerifier, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import { z } from 'zod';
import type { GatewayConfig } from './env.ts';
import type { InvalidationSource, ResponseCache } from './response-cache.ts';

export const PURGE_PATH = '/admin/cache/purge';
/** Scope an operator's token needs. */
export const ADMIN_SCOPE = 'admin';

const shorthand = z.object({ typename: z.string(), id: z.string().optional() }).strict();

/** The request body as a batch, or a message saying what is wrong with it. */
export function parsePurgeBody(body: unknown): InvalidationBatch | string {
  const short = shorthand.safeParse(body);
  const candidate = short.success
    ? short.data.id === undefined
      ? { types: [short.data.typename] }
      : { entities: [{ typename: short.data.typename, id: short.data.id }] }
    : body;
  const parsed = invalidationBatchSchema.safeParse(candidate);
  if (parsed.success) {
    // `purged` is what a Redis publisher reports; over HTTP the gateway counts its own deletions.
    const { purged: _reported, ...batch } = parsed.data;
    return batch;
  }
  const issue = parsed.error.issues[0];
  return `Invalid purge request${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'malformed'}`;
}

export function createPurgeRoute(
  cache: ResponseCache,
  auth: GatewayConfig['auth'],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const verifyClient = createClientVerifier(auth);
  const verifyService = auth.subgraphSecret ? createViewerVerifier(auth.subgraphSecret) : null;

  async function authorize(
    req: IncomingMessage,
  ): Promise<{ source: InvalidationSource } | { status: number; message: string; code: string }> {
    const service = req.headers[IDENTITY_HEADER];
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let viewer: Viewer;
    let needed: string;
    let source: InvalidationSource;
    try {
      if (typeof service === 'string' && verifyService) {
        viewer = await verifyService(service);
        needed = INVALIDATE_SCOPE;
        source = 'outbox';
      } else if (bearer && verifyClient) {
        viewer = await verifyClient(bearer);
        needed = ADMIN_SCOPE;
        source = 'admin';
      } else {
        return {
          status: 401,
          message: 'Authentication required (an admin bearer token)',
          code: ErrorCode.UNAUTHENTICATED,
        };
      }
    } catch (error) {
      return { status: 401, message: `Invalid token: ${(error as Error).message}`, code: ErrorCode.UNAUTHENTICATED };
    }
    if (!viewer.scopes.includes(needed)) {
      return { status: 403, message: `Requires the "${needed}" scope`, code: ErrorCode.FORBIDDEN };
    }
    return { source };
  }

  return async (req, res) => {
    if (req.method !== 'POST') {
      methodNotAllowed(req, res, 'POST');
      return;
    }
    const allowed = await authorize(req);
    if ('status' in allowed) {
      req.resume();
      requestError(res, allowed.status, allowed.message, allowed.code);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, 256 * 1024)) || 'null');
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        req.resume();
        requestError(res, 413, 'Purge request larger than 256 KB');
      } else requestError(res, 400, 'Malformed JSON body', ErrorCode.BAD_USER_INPUT);
      return;
    }
    const batch = parsePurgeBody(body);
    if (typeof batch === 'string') {
      requestError(res, 400, batch, ErrorCode.BAD_USER_INPUT);
      return;
    }
    const purged = await cache.invalidate(batch, allowed.source);
    // Not applied (the cache's Redis is unreachable): a 503, so a relay keeps the rows and retries.
    if (purged === undefined) {
      requestError(res, 503, 'The response cache is unavailable; retry', ErrorCode.SERVICE_UNAVAILABLE);
      return;
    }
    sendJson(res, 200, { purged });
  };
}
