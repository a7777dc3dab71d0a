// Cache hints: the subgraph's Cache-Control read into a hint, the opt-in default for subgraphs
// that send none, and the merge into the request's overall cache policy (most restrictive wins).

export interface CacheHint {
  maxAge: number;
  scope?: 'PUBLIC' | 'PRIVATE';
}

export const UNCACHEABLE: CacheHint = { maxAge: 0 };

/**
 * Reads a subgraph's `Cache-Control` (`max-age=N, public|private`). A response without a
 * max-age is uncacheable (maxAge 0), as with Apollo's own data source.
 */
export function parseCacheControl(header: string | string[] | undefined): CacheHint {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(value);
  if (!maxAge || /no-store|no-cache/i.test(value)) return { maxAge: 0 };
  return { maxAge: Number(maxAge[1]), ...(/\bprivate\b/i.test(value) ? { scope: 'PRIVATE' as const } : {}) };
}

/**
 * The opt-in default for subgraphs that send no `Cache-Control` (SUBGRAPH_DEFAULT_MAX_AGE):
 * `maxAge` seconds, PUBLIC only for an anonymous request (no user, no scopes: nothing in the
 * subgraph request can vary by caller), PRIVATE otherwise (keyed by the user; an identity
 * without a user id is then not stored at all).
 */
export function hintlessDefault(maxAge: number): (context: Record<string, unknown>) => CacheHint {
  return (context) => {
    const viewer = (context as { viewer?: { userId?: string | null; scopes?: readonly string[] } }).viewer;
    const anonymous = !viewer || (viewer.userId == null && (viewer.scopes?.length ?? 0) === 0);
    return { maxAge, scope: anonymous ? 'PUBLIC' : 'PRIVATE' };
  };
}

/** Merges a fetch's hint into the request's policy: the most restrictive hint wins. */
export function restrictCachePolicy(options: object, hint: CacheHint): void {
  const incoming = (
    options as { incomingRequestContext?: { overallCachePolicy?: { restrict(hint: CacheHint): void } } }
  ).incomingRequestContext;
  incoming?.overallCachePolicy?.restrict(hint);
}
