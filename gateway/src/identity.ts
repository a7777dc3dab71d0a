// The gateway's side of identity: verify the client's bearer token into a Viewer, and sign
// the Viewer for subgraphs. Client-sent identity headers are never forwarded: subgraph
// requests carry only the header the gateway builds here.
import type { IncomingMessage } from 'node:http';
import { ErrorCode, trellisError } from '@trellis/errors';
import { type RequestLogFields, requestLogFields, requestState } from '@trellis/http';
import { ANONYMOUS, createClientVerifier, createViewerSigner, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import type { GatewayConfig } from './env.ts';
import type { RateLimitSlot } from './rate-limit-http.ts';
import type { CacheSlot } from './response-cache.ts';

export interface GatewayContext {
  viewer: Viewer;
  /** Operation and error code for this request's access log line. */
  logFields?: RequestLogFields;
  /** Headers every subgraph fetch of this request carries (the signed identity). */
  subgraphHeaders: Record<string, string>;
  /** Entity tags the subgraph fetches reported (set when the response cache is on). */
  cacheTags?: Set<string>;
  /** The response cache's state for this request (response-cache.ts), when the cache is on. */
  cacheSlot?: CacheSlot | undefined;
  /** The client's rate-limit key and budgets spent (rate-limit-http.ts), when rate limiting is on. */
  rateLimit?: RateLimitSlot | undefined;
}

function unauthenticated(message: string) {
  return trellisError(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
}

/**
 * Verifies a request's bearer token into a Viewer, once per request: the response cache's
 * front (response-cache.ts) and the context factory ask the same memo. Rejects with a typed
 * UNAUTHENTICATED error.
 */
export function createIdentifier(auth: GatewayConfig['auth']): (req: IncomingMessage) => Promise<Viewer> {
  const verify = createClientVerifier(auth);
  // The verification of each request, once per request.
  const verified = requestState<Promise<Viewer>>('trellis.viewer');
  const identify = async (req: IncomingMessage): Promise<Viewer> => {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (auth.required) throw unauthenticated('Authentication required');
      return ANONYMOUS;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
    if (!verify) throw unauthenticated('This gateway does not accept tokens (no AUTH_JWT_SECRET or AUTH_JWKS_URL)');
    try {
      return await verify(match[1]);
    } catch (error) {
      throw unauthenticated(`Invalid token: ${(error as Error).message}`);
    }
  };
  // A request without a token (most of them, and every anonymous cached hit): one shared answer.
  const anonymous = Promise.resolve(ANONYMOUS);
  return (req) => {
    if (req.headers.authorization === undefined && !auth.required) return anonymous;
    let viewer = verified.get(req);
    if (!viewer) {
      viewer = identify(req);
      verified.set(req, viewer);
    }
    return viewer;
  };
}

/** Builds the per-request context factory from the request's verified identity. */
export function createContextFactory(
  identify: (req: IncomingMessage) => Promise<Viewer>,
  auth: GatewayConfig['auth'],
): (req: IncomingMessage) => Promise<GatewayContext> {
  const sign = auth.subgraphSecret ? createViewerSigner(auth.subgraphSecret) : null;
  return async (req) => {
    const viewer = await identify(req);
    const subgraphHeaders: Record<string, string> = sign ? { [IDENTITY_HEADER]: await sign(viewer) } : {};
    return { viewer, subgraphHeaders, logFields: requestLogFields(req) };
  };
}
