// The gateway's side of identity: verify the client's bearer token into a Viewer, and sign
// the Viewer for subgraphs. Client-sent identity headers are never forwarded: subgraph
// requests carry only the header the gateway builds here.
import type { IncomingMessage } from 'node:http';
import { ErrorCode, trellisError } from '@trellis/errors';
import { type RequestLogFields, requestLogFields } from '@trellis/http';
import { ANONYMOUS, createClientVerifier, createViewerSigner, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import type { GatewayConfig } from './env.ts';

export interface GatewayContext {
  viewer: Viewer;
  /** Operation and error code for this request's access log line. */
  logFields?: RequestLogFields;
  /** Headers every subgraph fetch of this request carries (the signed identity). */
  subgraphHeaders: Record<string, string>;
  /** Entity tags the subgraph fetches reported (set when the response cache is on). */
  cacheTags?: Set<string>;
}

function unauthenticated(message: string) {
  return trellisError(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
}

/** Builds the per-request context factory from the auth configuration. */
export function createContextFactory(auth: GatewayConfig['auth']): (req: IncomingMessage) => Promise<GatewayContext> {
  const verify = createClientVerifier(auth);
  const sign = auth.subgraphSecret ? createViewerSigner(auth.subgraphSecret) : null;
  return async (req) => {
    const header = req.headers.authorization;
    let viewer: Viewer = ANONYMOUS;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
      if (!verify) throw unauthenticated('This gateway does not accept tokens (no AUTH_JWT_SECRET or AUTH_JWKS_URL)');
      try {
        viewer = await verify(match[1]);
      } catch (error) {
        throw unauthenticated(`Invalid token: ${(error as Error).message}`);
      }
    } else if (auth.required) {
      throw unauthenticated('Authentication required');
    }
    const subgraphHeaders: Record<string, string> = sign ? { [IDENTITY_HEADER]: await sign(viewer) } : {};
    return { viewer, subgraphHeaders, logFields: requestLogFields(req) };
  };
}
