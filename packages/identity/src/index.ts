// Identity across the graph. Clients present a JWT to the gateway (verified with jose:
// a shared secret in development, a JWKS URL in production; issuer, audience and expiry
// checked; `alg: none` and unexpected algorithms refused). The gateway then forwards the
// viewer to subgraphs as a short-lived token it signs itself, which every subgraph verifies:
// a request that did not come through the gateway carries no valid token and is refused.
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** Header carrying the gateway-signed identity to subgraphs. Never accepted from clients. */
export const IDENTITY_HEADER = 'x-trellis-identity';

const GATEWAY_ISSUER = 'trellis-gateway';
const SUBGRAPH_AUDIENCE = 'trellis-subgraphs';

/** Who is asking: a user id (or null when anonymous) and their scopes. */
export interface Viewer {
  userId: string | null;
  scopes: string[];
}

export const ANONYMOUS: Viewer = Object.freeze({ userId: null, scopes: [] }) as Viewer;

export class IdentityError extends Error {
  override name = 'IdentityError';
}

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/**
 * The user id of a verified client token. RFC 7519 makes `sub` a string; jose checks it is
 * present, not its type, so a validly signed `"sub": 42` was taken for user 42 (a fuzz-suite
 * finding). Anything but a non-empty string is refused.
 */
function subjectOf(payload: JWTPayload): string {
  const sub: unknown = payload.sub;
  if (typeof sub !== 'string' || sub === '') {
    throw new errors.JWTClaimValidationFailed('"sub" claim must be a non-empty string', payload, 'sub', 'check_failed');
  }
  return sub;
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not valid`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  return 'token is not valid';
}

// --- gateway → subgraph -------------------------------------------------------------------

/**
 * Signs viewers for subgraph requests. Tokens live `ttlSeconds` and are reused for half of
 * that, so identical requests of one viewer carry identical headers (in-flight
 * deduplication keys on them) and signing stays off the hot path.
 */
export function createViewerSigner(secret: string, ttlSeconds = 60): (viewer: Viewer) => Promise<string> {
  const key = keyOf(secret);
  const cache = new Map<string, { token: string; renewAt: number }>();
  return async (viewer) => {
    const cacheKey = `${viewer.userId ?? ''}|${viewer.scopes.join(' ')}`;
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit && hit.renewAt > now) return hit.token;
    const jwt = new SignJWT({ scope: viewer.scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(GATEWAY_ISSUER)
      .setAudience(SUBGRAPH_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`);
    if (viewer.userId !== null) jwt.setSubject(viewer.userId);
    const token = await jwt.sign(key);
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, { token, renewAt: now + (ttlSeconds * 1000) / 2 });
    return token;
  };
}

/** Verifies a gateway-signed identity token in a subgraph; throws IdentityError. */
export function createViewerVerifier(secret: string): (token: string | undefined) => Promise<Viewer> {
  const key = keyOf(secret);
  return async (token) => {
    if (!token) throw new IdentityError('missing gateway identity');
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: GATEWAY_ISSUER,
        audience: SUBGRAPH_AUDIENCE,
        algorithms: ['HS256'],
        clockTolerance: 5,
      });
      return { userId: payload.sub ?? null, scopes: scopesOf(payload) };
    } catch (error) {
      throw new IdentityError(`gateway identity rejected: ${describe(error)}`);
    }
  };
}

// --- client → gateway ---------------------------------------------------------------------

export interface ClientAuthOptions {
  /** HS256 shared secret (development). */
  secret?: string | undefined;
  /** JWKS endpoint (production); RS256/ES256/EdDSA keys. Takes precedence over `secret`. */
  jwksUrl?: string | undefined;
  issuer: string;
  audience: string;
}

/** Verifies a client's bearer token; throws IdentityError with a client-safe reason. */
export function createClientVerifier(options: ClientAuthOptions): ((token: string) => Promise<Viewer>) | null {
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: 5,
    requiredClaims: ['exp', 'sub'],
  };
  if (options.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 2000, cooldownDuration: 30_000 });
    return async (token) => {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          ...verifyOptions,
          algorithms: ['RS256', 'ES256', 'EdDSA', 'PS256'],
        });
        return { userId: subjectOf(payload), scopes: scopesOf(payload) };
      } catch (error) {
        throw new IdentityError(describe(error));
      }
    };
  }
  if (options.secret) {
    const key = keyOf(options.secret);
    return async (token) => {
      try {
        const { payload } = await jwtVerify(token, key, { ...verifyOptions, algorithms: ['HS256'] });
        return { userId: subjectOf(payload), scopes: scopesOf(payload) };
      } catch (error) {
        throw new IdentityError(describe(error));
      }
    };
  }
  return null;
}

/** Mints a client token with the development secret (`pnpm run dev:token`, tests). */
export async function mintClientToken(options: {
  userId: string;
  scopes?: string[];
  secret: string;
  issuer: string;
  audience: string;
  expiresIn?: string;
}): Promise<string> {
  return new SignJWT({ scope: (options.scopes ?? []).join(' ') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.userId)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(keyOf(options.secret));
}

/** Development defaults shared by the gateway, the subgraphs, `pnpm run dev:token` and tests. */
export const DEV_AUTH = {
  clientSecret: 'trellis-dev-client-secret',
  subgraphSecret: 'trellis-dev-subgraph-secret',
  issuer: 'trellis',
  audience: 'trellis-api',
} as const;
