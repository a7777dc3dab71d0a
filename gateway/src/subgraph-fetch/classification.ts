// Failure classification: what a failed attempt means for the fetch — an error of the
// request, or the subgraph unavailable — and whether a query may be retried, for what reason.
/** A response status that is not a GraphQL answer (no `errors`/`data` body, or 429/5xx). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

/** A 2xx whose body is not a GraphQL response. */
export class InvalidResponseError extends Error {}

/** Errors that mean the request never got an answer: safe to retry for a query. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return errorCode(cause);
}

export type RetryReason = 'connection' | 'http_429' | 'http_502' | 'http_503' | 'http_504';

export interface Classified {
  outcome: 'error' | 'unavailable';
  /** Set when a query may be retried. */
  reason?: RetryReason;
  retryAfterMs?: number;
}

export function classify(error: unknown): Classified {
  if (error instanceof HttpStatusError) {
    const { status, retryAfterMs } = error;
    if (status === 429 || status === 502 || status === 503 || status === 504) {
      return { outcome: 'unavailable', reason: `http_${status}`, retryAfterMs };
    }
    return { outcome: 'error' };
  }
  if (error instanceof InvalidResponseError) return { outcome: 'error' };
  const code = errorCode(error);
  if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN' || code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return { outcome: 'unavailable' };
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) return { outcome: 'unavailable', reason: 'connection' };
  return { outcome: 'error' };
}

/** The subgraph answered: a 4xx (or 429) is the request's problem, not the subgraph's health. */
export const isRequestError = (error: unknown): boolean => error instanceof HttpStatusError && error.status < 500;

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
