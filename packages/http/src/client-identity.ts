// Which client sent a request, by Apollo's convention: `apollographql-client-name` and
// `apollographql-client-version` headers (Apollo Client, Apollo Kotlin/iOS and most
// GraphQL clients can send them). Read once per request and shared by the access log, the
// server span, the request metrics and anything else that wants to know the client (rate
// limits, usage reporting): `readClientIdentity(req)`.
//
// The values are the client's word, not an authenticated fact, and reach logs, traces and
// metric labels: a value that is too long or has characters outside the allowed set
// (control characters included) counts as absent, and metric labels take only a bounded set
// of names (`createClientLabeler`).
import type { IncomingMessage } from 'node:http';
import { requestState } from './request-state.ts';

export const CLIENT_NAME_HEADER = 'apollographql-client-name';
export const CLIENT_VERSION_HEADER = 'apollographql-client-version';

/** Letters, digits and `_ . @ / + : -`, starting with a letter, a digit or `@` (scoped names); at most 64 characters. */
const NAME = /^(?=.{1,64}$)@?[A-Za-z0-9][\w.@/+:-]*$/;
/** Letters, digits and `_ . + -`; at most 64 characters (semver with pre-release and build, dates, hashes). */
const VERSION = /^[\w.+-]{1,64}$/;

/** The label of requests that name no (valid) client. */
export const UNKNOWN_CLIENT = 'unknown';
/** The label of valid names beyond the allowlist or the cap. */
export const OTHER_CLIENT = 'other';

export interface ClientIdentity {
  /** The client's name, or null when absent or invalid. */
  name: string | null;
  /** Its version, or null when absent, invalid, or without a valid name. */
  version: string | null;
}

const ANONYMOUS_CLIENT: ClientIdentity = Object.freeze({ name: null, version: null });

/** The last pair of values parsed and its identity: clients repeat theirs, request after request. */
let last: { name: unknown; version: unknown; identity: ClientIdentity } = {
  name: undefined,
  version: undefined,
  identity: ANONYMOUS_CLIENT,
};

/** Validates raw header values (a repeated header counts as invalid). */
export function parseClientIdentity(name: unknown, version: unknown): ClientIdentity {
  if (name === last.name && version === last.version) return last.identity;
  let identity = ANONYMOUS_CLIENT;
  if (typeof name === 'string' && NAME.test(name))
    identity = Object.freeze({ name, version: typeof version === 'string' && VERSION.test(version) ? version : null });
  // Only strings are remembered (an array is a repeated header: parsed, never matched by ===).
  if (typeof name === 'string' || name === undefined) last = { name, version, identity };
  return identity;
}

/** Where a request's identity is kept. */
const identities = requestState<ClientIdentity>('trellis.clientIdentity');

/** The client identity of a request (validated; computed once per request). */
export function readClientIdentity(req: IncomingMessage): ClientIdentity {
  let identity = identities.get(req);
  if (!identity) {
    identity = parseClientIdentity(req.headers[CLIENT_NAME_HEADER], req.headers[CLIENT_VERSION_HEADER]);
    identities.set(req, identity);
  }
  return identity;
}

export interface ClientLabelOptions {
  /** Only these names get their own label; any other valid name is `other`. @default none (first seen) */
  allowlist?: readonly string[] | undefined;
  /** Without an allowlist: the first this many distinct names get their own label, later ones `other`. @default 20 */
  max?: number | undefined;
}

/** Maps a client identity to a metric label value from a bounded set (names, `other`, `unknown`). */
export function createClientLabeler(options: ClientLabelOptions = {}): (identity: ClientIdentity) => string {
  const { allowlist } = options;
  if (allowlist) {
    const allowed = new Set(allowlist);
    return ({ name }) => (name === null ? UNKNOWN_CLIENT : allowed.has(name) ? name : OTHER_CLIENT);
  }
  const max = options.max ?? 20;
  const seen = new Set<string>();
  return ({ name }) => {
    if (name === null) return UNKNOWN_CLIENT;
    if (seen.has(name)) return name;
    if (seen.size >= max) return OTHER_CLIENT;
    seen.add(name);
    return name;
  };
}

/** Parses a `CLIENT_NAMES` list (comma-separated client names); throws naming a bad entry. */
export function parseClientNames(text: string): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names)
    if (!NAME.test(name))
      throw new Error(`"${name.slice(0, 80)}" is not a client name (letters, digits, _ . @ / + : -; at most 64)`);
  return names;
}
