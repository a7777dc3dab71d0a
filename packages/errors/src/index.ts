// The one error vocabulary of Trellis: codes in `extensions.code`, helpers that build
// typed GraphQL errors, mutation user errors, and masking of unexpected errors.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const ErrorCode = {
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  RATE_LIMITED: 'RATE_LIMITED',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status a response gets when an error with this code stops the whole request. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.GRAPHQL_PARSE_FAILED:
    case ErrorCode.GRAPHQL_VALIDATION_FAILED:
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.QUERY_TOO_COMPLEX:
    case ErrorCode.PERSISTED_QUERY_NOT_FOUND:
    case ErrorCode.OPERATION_RESOLUTION_FAILURE:
      return 400;
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.RATE_LIMITED:
      return 429;
    case ErrorCode.INTERNAL_SERVER_ERROR:
      return 500;
    case ErrorCode.SUBGRAPH_UNAVAILABLE:
    case ErrorCode.SERVICE_UNAVAILABLE:
      return 503;
    case ErrorCode.TIMEOUT:
      return 504;
    default:
      throw new UnreachableCaseError(code);
  }
}

/** Ends an exhaustive switch: the compiler proves it unreachable. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}

/** A GraphQL error carrying one of our codes (and optional structured data). */
export function trellisError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** A client mistake in an argument; `argumentPath` names it, e.g. `['first']`. */
export function badUserInput(message: string, argumentPath: readonly (string | number)[] = []): GraphQLError {
  return trellisError(ErrorCode.BAD_USER_INPUT, message, argumentPath.length ? { argumentPath } : {});
}

export function notFound(message: string): GraphQLError {
  return trellisError(ErrorCode.NOT_FOUND, message);
}

export function unauthenticated(message = 'Authentication required'): GraphQLError {
  return trellisError(ErrorCode.UNAUTHENTICATED, message);
}

export function forbidden(message = 'Not allowed'): GraphQLError {
  return trellisError(ErrorCode.FORBIDDEN, message);
}

/** A business outcome of a mutation: returned as data in `userErrors`, never thrown. */
export interface UserError {
  message: string;
  path: string[];
  code: string;
}

export function userError(code: string, message: string, path: string[] = []): UserError {
  return { code, message, path };
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

export interface MaskOptions {
  /** Show unexpected errors as they are (development). @default false */
  exposeInternals: boolean;
  /** Trace id to tell the client, so an operator can find the full error. */
  traceId?: string;
}

/**
 * Keeps errors with a known code (they were written for clients) and masks everything else
 * as "Internal server error". Stack traces never leave the process.
 */
export function maskError(formatted: GraphQLFormattedError, options: MaskOptions): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const known = typeof code === 'string' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR;
  const { stacktrace: _stack, exception: _exception, ...extensions } = formatted.extensions ?? {};
  if (known || options.exposeInternals) {
    return { ...formatted, extensions: { ...extensions, code: code ?? ErrorCode.INTERNAL_SERVER_ERROR } };
  }
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: {
      code: ErrorCode.INTERNAL_SERVER_ERROR,
      ...(options.traceId ? { traceId: options.traceId } : {}),
    },
  };
}
