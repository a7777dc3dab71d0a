// CORS for browser clients on other origins (the gateway's front; subgraphs are not called
// from browsers). Glue rather than the `cors` package: that middleware answers every
// preflight of an allowed origin with the same lists whatever it asks for, gives no reason
// when it cannot allow one, and sets `Vary: Origin` only on allowed responses; the rules
// here are those, an origin matcher and a header list.
//
// - `Vary: Origin` on every response (a shared cache must not hand one origin's answer to
//   another, nor an allowed answer to a disallowed origin).
// - An allowed origin gets `Access-Control-Allow-Origin: <that origin>` (never `*`), the
//   exposed headers and, when configured, `Access-Control-Allow-Credentials: true`.
// - A preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin that
//   asks only for allowed methods and headers is answered `204` with the lists and a
//   max-age; anything else is `403 FORBIDDEN` with the reason and no `Access-Control-*`
//   header (the browser refuses, the developer reads why in the network panel).
// - Any other request from a disallowed origin (or `Origin: null`, or a malformed one) gets
//   no `Access-Control-*` header and is otherwise handled as if it had no Origin: the
//   browser withholds the answer. Apollo's CSRF prevention is untouched.
// Headers are set before routing, so responses written by the response cache's front, the
// rate limiter and error paths carry exactly what computed ones carry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@trellis/errors';

/** Request headers a browser client may send (the preflight's allowed list). */
export const CORS_ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'apollographql-client-name',
  'apollographql-client-version',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'traceparent',
  'tracestate',
  'x-request-id',
  'cache-control',
] as const;

/** Response headers a browser client may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'x-cache',
  'age',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
] as const;

export const CORS_METHODS = ['GET', 'POST'] as const;

/** How long a browser may reuse a preflight answer (s); Chromium caps it at 7200. */
export const CORS_MAX_AGE_S = 7200;

/** Origins allowed in development when none are configured: any port on a loopback host. */
export const DEV_CORS_ORIGINS = [
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
  'https://localhost:*',
  'https://127.0.0.1:*',
  'https://[::1]:*',
] as const;

/** Longest Origin header considered (a scheme, a 253-character host and a port fit). */
const MAX_ORIGIN_LENGTH = 300;

/** Origin decisions remembered per server (distinct Origin values; the memo is cleared when full). */
const ORIGIN_MEMO = 1000;

/** `scheme://host[:port]` as browsers serialise it (lower case; IPv6 in brackets). */
const ORIGIN = /^(https?):\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

/** A pattern: the same, with `*.` before the host (any subdomain) and/or `*` as the port. */
const PATTERN = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$/;

export interface CorsConfig {
  /**
   * Allowed origins: exact (`https://shop.example.com`), any port (`http://localhost:*`),
   * any subdomain (`https://*.example.com`), or `*` (any well-formed origin, reflected).
   * Empty: no cross-origin access.
   */
  origins: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true` (cookies, TLS client certificates). @default false */
  credentials?: boolean;
}

/**
 * Parses `CORS_ORIGINS`: comma-separated patterns (see CorsConfig.origins), or `none`.
 * Throws an Error naming the first bad entry.
 */
export function parseCorsOrigins(text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 1 && entries[0] === 'none') return [];
  for (const entry of entries) {
    if (entry === '*') continue;
    if (!PATTERN.test(entry))
      throw new Error(
        `"${entry.slice(0, 80)}" is not an origin pattern (scheme://host[:port], lower case, no path; ` +
          'wildcards: "*." before the host, ":*" as the port, or "*" alone)',
      );
  }
  return entries;
}

type Matcher = (origin: string) => boolean;

function compile(origins: readonly string[]): Matcher {
  if (origins.includes('*')) return (origin) => ORIGIN.test(origin);
  const exact = new Set<string>();
  const wildcards: { scheme: string; suffix: string; subdomains: boolean; port: string | undefined }[] = [];
  for (const pattern of origins) {
    const match = PATTERN.exec(pattern);
    if (!match) throw new Error(`CORS origin pattern "${pattern.slice(0, 80)}" is not valid`);
    const [, scheme, star, host, port] = match as unknown as [string, string, string | undefined, string, string?];
    if (!star && port !== '*') exact.add(pattern);
    else wildcards.push({ scheme: scheme, suffix: host, subdomains: Boolean(star), port });
  }
  return (origin) => {
    if (exact.has(origin)) return true;
    if (wildcards.length === 0) return false;
    const match = ORIGIN.exec(origin);
    if (!match) return false;
    const [, scheme, host, port] = match as unknown as [string, string, string, string?];
    return wildcards.some(
      (w) =>
        w.scheme === scheme &&
        (w.subdomains ? host.endsWith(`.${w.suffix}`) : host === w.suffix) &&
        (w.port === '*' || w.port === port),
    );
  };
}

export interface Cors {
  /** Whether `origin` (an Origin header value) may read responses. */
  allows(origin: string | undefined): boolean;
  /**
   * Sets the CORS headers of `req`'s response; answers a preflight itself and returns true
   * (nothing else is to be done), false otherwise.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The CORS rules of one server. */
export function createCors(config: CorsConfig): Cors {
  const matches = compile(config.origins);
  // Decisions by origin string: a browser sends the same Origin on every request, and
  // wildcard patterns cost a regular expression each. Bounded (cleared when full), so a
  // stream of distinct origins costs memory no more than ORIGIN_MEMO entries.
  const decided = new Map<string, boolean>();
  const allows = (origin: string | undefined): origin is string => {
    if (origin === undefined || origin.length > MAX_ORIGIN_LENGTH) return false;
    let allowed = decided.get(origin);
    if (allowed === undefined) {
      allowed = matches(origin);
      if (decided.size >= ORIGIN_MEMO) decided.clear();
      decided.set(origin, allowed);
    }
    return allowed;
  };
  const credentials = config.credentials === true;
  const exposed = CORS_EXPOSED_HEADERS.join(', ');
  const allowedHeaders = new Set<string>(CORS_ALLOWED_HEADERS);
  const allowedHeaderList = CORS_ALLOWED_HEADERS.join(', ');
  const methods = CORS_METHODS.join(', ');
  const maxAge = String(CORS_MAX_AGE_S);

  function refuse(res: ServerResponse, reason: string) {
    const body = JSON.stringify({
      errors: [{ message: `CORS preflight refused: ${reason}`, extensions: { code: ErrorCode.FORBIDDEN } }],
    });
    res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  }

  return {
    allows,
    handle(req, res) {
      const origin = req.headers.origin;
      const requested = req.method === 'OPTIONS' ? req.headers['access-control-request-method'] : undefined;
      if (requested === undefined) {
        res.setHeader('vary', 'Origin');
        if (!allows(origin)) return false;
        res.setHeader('access-control-allow-origin', origin);
        if (credentials) res.setHeader('access-control-allow-credentials', 'true');
        res.setHeader('access-control-expose-headers', exposed);
        return false;
      }
      // A preflight: its answer depends on what it asks too.
      res.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      req.resume();
      if (!allows(origin)) {
        refuse(res, origin === undefined ? 'no Origin header' : 'this origin is not allowed (CORS_ORIGINS)');
        return true;
      }
      if (!(CORS_METHODS as readonly string[]).includes(requested)) {
        refuse(res, `method ${requested.slice(0, 32)} is not allowed (allowed: ${methods})`);
        return true;
      }
      const asked = req.headers['access-control-request-headers'];
      if (asked) {
        for (const name of asked.split(',')) {
          const header = name.trim().toLowerCase();
          if (header !== '' && !allowedHeaders.has(header)) {
            refuse(res, `header ${header.slice(0, 64)} is not allowed (allowed: ${allowedHeaderList})`);
            return true;
          }
        }
      }
      res.setHeader('access-control-allow-origin', origin);
      if (credentials) res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', methods);
      res.setHeader('access-control-allow-headers', allowedHeaderList);
      res.setHeader('access-control-max-age', maxAge);
      res.writeHead(204, { 'content-length': '0' });
      res.end();
      return true;
    },
  };
}
