// The HTTP front of every service: a plain node:http server that routes /graphql to
// Apollo Server's executeHTTPGraphQLRequest, serves health probes, bounds request bodies,
// variables, header and request times and connections, answers every refusal (404, 405,
// 408, 413, 431, malformed HTTP) with a typed JSON body, and drains in-flight requests on
// shutdown. Optionally (the gateway): CORS on every response (cors.ts), a landing page for
// browser navigations of the endpoint, and the client identity of each request
// (client-identity.ts) in its log line and span.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApolloServer, type ApolloServerPlugin, type BaseContext, HeaderMap } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import { ErrorCode } from '@trellis/errors';
import { flushTelemetry, type Logger } from '@trellis/telemetry';
import { LRUCache } from 'lru-cache';
import { readClientIdentity } from './client-identity.ts';
import { type ConnectionLimits, createBoundedServer, DEFAULT_CONNECTION_LIMITS } from './connections.ts';
import type { Cors } from './cors.ts';
import { boundsProblem, DEFAULT_INPUT_BOUNDS, type InputBounds } from './input.ts';
import { requestState } from './request-state.ts';

export {
  CLIENT_NAME_HEADER,
  CLIENT_VERSION_HEADER,
  type ClientIdentity,
  type ClientLabelOptions,
  createClientLabeler,
  OTHER_CLIENT,
  parseClientIdentity,
  parseClientNames,
  readClientIdentity,
  UNKNOWN_CLIENT,
} from './client-identity.ts';
export {
  answerClientError,
  type ConnectionLimits,
  createBoundedServer,
  DEFAULT_CONNECTION_LIMITS,
  httpLimits,
} from './connections.ts';
export {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_S,
  CORS_METHODS,
  type Cors,
  type CorsConfig,
  createCors,
  DEV_CORS_ORIGINS,
  parseCorsOrigins,
} from './cors.ts';
export {
  createGraphQLMetrics,
  createGraphQLMetricsPlugin,
  type GraphQLMetrics,
  type GraphQLMetricsOptions,
} from './graphql-metrics.ts';
export { DEFAULT_INPUT_BOUNDS, type InputBounds } from './input.ts';
export { type InternalSurface, internalSurface, routeRequests } from './internal.ts';
export { type RequestState, requestState } from './request-state.ts';

/**
 * Fields of a request's access log line that only the GraphQL layer knows (operation name,
 * first error code); filled through `requestLogFields(req)` by accessLogPlugin().
 */
export interface RequestLogFields {
  operation?: string | undefined;
  errorCode?: string | undefined;
}

/**
 * Per-request state lives on the request (requestState: a private Symbol) rather than in a
 * WeakMap: a WeakMap entry per request is an ephemeron the collector walks, which showed on
 * cached hits (tens of thousands of requests a second).
 */
const logFields = requestState<RequestLogFields>('trellis.logFields');

/** The access-log fields of a request (create-on-read). Context factories pass it on. */
export function requestLogFields(req: IncomingMessage): RequestLogFields {
  let fields = logFields.get(req);
  if (!fields) {
    fields = {};
    logFields.set(req, fields);
  }
  return fields;
}

/** Apollo plugin: records the operation name and the first error code for the access log. */
export function accessLogPlugin<
  TContext extends BaseContext & { logFields?: RequestLogFields },
>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName, contextValue }) {
          if (contextValue.logFields) contextValue.logFields.operation = operationName ?? undefined;
        },
        async didEncounterErrors({ errors, contextValue }) {
          const code = errors[0]?.extensions?.code;
          if (contextValue?.logFields && typeof code === 'string') contextValue.logFields.errorCode ??= code;
        },
      };
    },
  };
}

/** Request id header: taken from the client when well-formed, generated otherwise. */
export const REQUEST_ID_HEADER = 'x-request-id';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServerOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Builds the per-request context (DataLoaders, identity). */
  context: (req: IncomingMessage) => Promise<TContext>;
  /** Readiness: supergraph loaded / database reachable. GraphQL requests get 503 until then. */
  isReady: () => boolean;
  logger: Logger;
  /** @default '/graphql' */
  path?: string;
  /** Larger bodies are refused with 413 before parsing. @default 1_000_000 */
  maxBodyBytes?: number;
  /** Bounds of `variables` and `extensions` (400 BAD_USER_INPUT beyond them). @default DEFAULT_INPUT_BOUNDS */
  inputBounds?: InputBounds;
  /** Timeouts and the connection cap. @default DEFAULT_CONNECTION_LIMITS */
  connections?: ConnectionLimits;
  /** Extra GET/POST routes by exact path (e.g. `/metrics`). */
  routes?: Record<string, Route>;
  /**
   * Checks (and may rewrite) a parsed POST body before Apollo sees it; a string result is
   * a refusal, sent as a 400 with `refusedCode`. Used for trusted documents.
   */
  admit?: (body: unknown) => { body: unknown } | string;
  /** @default 'BAD_REQUEST' */
  refusedCode?: string;
  /**
   * Answers requests before Apollo's pipeline, and sees Apollo's complete responses: the
   * gateway's response cache serves stored bytes through it (gateway/src/response-cache.ts).
   */
  front?: GraphQLFront;
  /**
   * Answers browser navigations of the GraphQL path (GET accepting text/html), e.g. a
   * development explorer. Without it they go to Apollo like any GET.
   */
  landingPage?: Route;
  /** CORS rules (cors.ts): headers on every response, preflights answered. Without it no CORS header is sent. */
  cors?: Cors;
}

/** A GraphQL request as it reaches the front: the parsed POST body (after `admit`) or the GET query string. */
export interface FrontRequest {
  method: 'GET' | 'POST';
  body: unknown;
  search: string;
  /**
   * The JSON POST body as received, when `body` is exactly its parse (not rewritten by
   * `admit`): a front may key memos by it instead of serialising `body` again. Reading
   * `body` may parse it then (a repeat of a body already vetted is not parsed up front).
   */
  text?: string;
  /**
   * With `text`: state derived from that text, the same object for every repeat of it while
   * the server remembers the text as vetted. A front keeps what it computes from the text
   * here, under a Symbol of its own, instead of in a memo of its own keyed by the text: a
   * cached hit then looks its body text up once, not once per front.
   */
  memo?: BodyMemo;
}

/** What fronts derive from one JSON body text (FrontRequest.memo), each under its own Symbol. */
export type BodyMemo = Record<symbol, unknown>;

export interface GraphQLFront {
  /** Answers the request itself (resolves true) or lets Apollo run it (false). */
  serve(req: IncomingMessage, res: ServerResponse, request: FrontRequest): Promise<boolean> | boolean;
  /** Apollo's complete answer to a request `serve` passed on, before it is written. */
  complete?(req: IncomingMessage, status: number, headers: Iterable<[string, string]>, body: string): void;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, waits for in-flight requests (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

export function requestError(
  res: ServerResponse,
  status: number,
  message: string,
  code: string = ErrorCode.BAD_REQUEST,
) {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** 405 with the allowed methods and a typed body, like every other refusal (an empty 405 body was a finding twice). */
export function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  sendJson(
    res,
    405,
    { errors: [{ message: `Method ${req.method} is not allowed`, extensions: { code: ErrorCode.BAD_REQUEST } }] },
    { allow },
  );
  req.resume();
}

/**
 * Every service's probes: `/health/live` (200 while the process serves), `/health/ready`
 * and its alias `/health` (200 once `isReady()`, 503 until then).
 */
export function healthRoutes(isReady: () => boolean): Record<'/health/live' | '/health/ready' | '/health', Route> {
  const ready: Route = (_req, res) =>
    isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready' });
  return {
    '/health/live': (_req, res) => sendJson(res, 200, { status: 'live' }),
    '/health/ready': ready,
    '/health': ready,
  };
}

export class BodyTooLarge extends Error {}

/**
 * The request body as text; rejects with BodyTooLarge beyond `limit` bytes (declared or
 * received). 'data'/'end' listeners rather than async iteration: a body usually arrives in
 * one chunk, and the iterator's promise per chunk and per end showed in hit profiles. The
 * listeners stay on the request once it settles (a settled flag makes them inert): removing
 * four listeners cost a cached hit more than adding them.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  // Gone before it was read (a client that hung up during an earlier await): no 'end' or 'close' will come.
  if (req.destroyed) return Promise.reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        // As async iteration did on an early exit: the rest of the body is not read.
        req.destroy();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    // A request aborted before its end (the client went away) never resolves with a body.
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}

/** Longest JSON body remembered as vetted, and the characters held in all (per server). */
const VETTED_BODY_MAX = 2_000_000;
const VETTED_BODY_CHARS = 32_000_000;

/**
 * The last vetted body of each connection (bodies up to LAST_BODY_MAX characters): a client
 * that repeats it on its connection — a cached query polled, an ingress's pooled connection
 * carrying a popular query — is found by comparing the texts, without hashing the text to look
 * it up (hashing the benchmark's 850-character body cost a hit about 2 % of its CPU). At most
 * LAST_BODY_MAX characters per connection, and connections are capped (connections.ts): 40 MB
 * at the default cap of 10,000 connections each holding a distinct 4 KB body.
 */
const LAST_BODY = Symbol('trellis.lastVettedBody');
const LAST_BODY_MAX = 4096;
type LastBody = { text: string; memo: BodyMemo };

/**
 * The front's view of a vetted repeat (`text` set, not parsed yet): the body is parsed on
 * first read, so a front that keys by `text` never pays for it. A class (the getter on its
 * prototype), not an object literal with a getter: one per cached hit.
 */
class VettedRepeat implements FrontRequest {
  readonly method = 'POST';
  readonly search: string;
  readonly text: string;
  readonly memo: BodyMemo;
  #parsed: unknown;
  #read = false;
  constructor(search: string, text: string, memo: BodyMemo) {
    this.search = search;
    this.text = text;
    this.memo = memo;
  }
  get body(): unknown {
    if (!this.#read) {
      this.#parsed = this.text === '' ? {} : JSON.parse(this.text);
      this.#read = true;
    }
    return this.#parsed;
  }
}

export function createHttpServer<TContext extends BaseContext>(options: HttpServerOptions<TContext>): Server {
  const graphqlPath = options.path ?? '/graphql';
  const limit = options.maxBodyBytes ?? 1_000_000;
  const routes: Record<string, Route> = { ...healthRoutes(options.isReady), ...options.routes };
  routes['/health'] = routes['/health/ready'] as Route;

  const bounds = options.inputBounds ?? DEFAULT_INPUT_BOUNDS;
  /** Why a request's variables or extensions exceed the bounds, before anything recurses over them. */
  const inputProblem = (body: unknown): string | undefined => {
    if (typeof body !== 'object' || body === null) return undefined;
    for (const part of Array.isArray(body) ? body : [body]) {
      if (typeof part !== 'object' || part === null) continue;
      for (const name of ['variables', 'extensions'] as const) {
        const problem = boundsProblem((part as Record<string, unknown>)[name], bounds);
        if (problem) return `Request ${name} ${problem}`;
      }
    }
    return undefined;
  };

  /**
   * JSON bodies this server has parsed and admitted unchanged (within the input bounds, and
   * through `admit` as they were). A repeat of one skips JSON.parse until something reads its
   * body: a cached hit never does (the front keys it by the text); parsing the benchmark's
   * body cost a hit about 5 % of its CPU. The checks are functions of the text alone, so a
   * repeat passes them again. Bounded by characters held.
   */
  const vetted = new LRUCache<string, BodyMemo>({
    maxSize: VETTED_BODY_CHARS,
    maxEntrySize: 2 * VETTED_BODY_MAX + 256,
    // The text, and what fronts keep in its memo (a digest; a text key, at most as long as the text).
    sizeCalculation: (_memo, text) => 2 * text.length + 256,
  });

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    if (options.landingPage && req.method === 'GET' && req.headers.accept?.includes('text/html')) {
      await options.landingPage(req, res);
      return;
    }
    // The client on the request's server span (Apollo Router's attribute names).
    const client = readClientIdentity(req);
    if (client.name !== null) {
      const span = trace.getActiveSpan();
      span?.setAttribute('apollo.client.name', client.name);
      if (client.version !== null) span?.setAttribute('apollo.client.version', client.version);
    }
    if (!options.isReady()) {
      requestError(res, 503, 'Service is not ready', ErrorCode.SERVICE_UNAVAILABLE);
      req.resume();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      methodNotAllowed(req, res, 'GET, POST');
      return;
    }
    let body: unknown;
    let json: string | undefined;
    let memo: BodyMemo | undefined;
    if (req.method === 'POST') {
      let text: string;
      try {
        text = await readBody(req, limit);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          requestError(res, 413, `Request body larger than ${limit} bytes`);
          req.resume();
          return;
        }
        throw error;
      }
      const type = req.headers['content-type'] ?? '';
      const socket = req.socket as typeof req.socket & { [LAST_BODY]?: LastBody };
      const last = socket[LAST_BODY];
      if (last?.text === text && type.includes('json')) memo = last.memo;
      else if (type.includes('json') && text.length <= VETTED_BODY_MAX) {
        memo = vetted.get(text);
        if (memo && text.length <= LAST_BODY_MAX) socket[LAST_BODY] = { text, memo };
      }
      if (memo) {
        json = text;
      } else if (type.includes('json')) {
        try {
          body = text === '' ? {} : JSON.parse(text);
          json = text;
        } catch {
          requestError(res, 400, 'Malformed JSON body');
          return;
        }
      } else {
        body = text;
      }
      if (json === undefined || body !== undefined) {
        const refused = inputProblem(body);
        if (refused) {
          requestError(res, 400, refused, ErrorCode.BAD_USER_INPUT);
          return;
        }
        if (options.admit) {
          const admitted = options.admit(body);
          if (typeof admitted === 'string') {
            requestError(res, 400, admitted, options.refusedCode ?? ErrorCode.BAD_REQUEST);
            return;
          }
          if (admitted.body !== body) json = undefined;
          body = admitted.body;
        }
        if (json !== undefined && json.length <= VETTED_BODY_MAX) {
          memo = {};
          vetted.set(json, memo);
          if (json.length <= LAST_BODY_MAX) socket[LAST_BODY] = { text: json, memo };
        }
      }
    } else if (options.admit) {
      requestError(res, 405, 'Only POST requests are accepted in trusted documents mode');
      return;
    } else {
      const refused = inputProblem(searchInput(search));
      if (refused) {
        requestError(res, 400, refused, ErrorCode.BAD_USER_INPUT);
        return;
      }
    }
    const front = options.front;
    const request: FrontRequest =
      json === undefined
        ? { method: req.method, body, search }
        : body === undefined && memo
          ? new VettedRepeat(search, json, memo)
          : { method: req.method, body, search, text: json, ...(memo ? { memo } : {}) };
    if (front && (await front.serve(req, res, request))) return;
    body = request.body;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search, body },
      context: () => options.context(req),
    });
    for (const [key, value] of response.headers) {
      // Vary accumulates (CORS set `Vary: Origin` before Apollo ran).
      const vary = key === 'vary' ? res.getHeader('vary') : undefined;
      res.setHeader(key, vary ? `${vary}, ${value}` : value);
    }
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      front?.complete?.(req, res.statusCode, response.headers, response.body.string);
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  return createBoundedServer(options.connections ?? DEFAULT_CONNECTION_LIMITS, (req, res) => {
    // Every response names its request; clients quote it, logs and masked errors carry it.
    const given = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = performance.now();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const search = queryAt === -1 ? '' : url.slice(queryAt);
    // One access line per request, with stable keys (health probes and scrapes stay quiet;
    // nothing is gathered when the level is above info).
    if (path === graphqlPath && options.logger.isLevelEnabled('info'))
      res.once('finish', () => {
        const fields = logFields.get(req);
        const client = readClientIdentity(req);
        options.logger.info(
          {
            request_id: requestId,
            method: req.method,
            path,
            status: res.statusCode,
            duration_ms: Math.round((performance.now() - started) * 100) / 100,
            operation: fields?.operation ?? null,
            error_code: fields?.errorCode ?? null,
            client_name: client.name,
            client_version: client.version,
          },
          'request',
        );
      });
    if (options.cors?.handle(req, res)) return;
    const work = path === graphqlPath ? handleGraphQL(req, res, search) : (routes[path] ?? notFound)(req, res);
    Promise.resolve(work).catch((error: unknown) => {
      options.logger.error({ err: error, path }, 'request failed');
      if (!res.headersSent) requestError(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    });
  });
}

/** 404 for a path no route serves (typed, code NOT_FOUND). */
export const notFound: Route = (req, res) => {
  requestError(res, 404, `No route ${req.method} ${(req.url ?? '/').split('?')[0]}`, ErrorCode.NOT_FOUND);
  req.resume();
};

/** `variables` and `extensions` of a GET query string (undefined when absent or not JSON: Apollo refuses those). */
function searchInput(search: string): Record<string, unknown> {
  const params = new URLSearchParams(search);
  const input: Record<string, unknown> = {};
  for (const name of ['variables', 'extensions']) {
    const value = params.get(name);
    if (value === null) continue;
    try {
      input[name] = JSON.parse(value);
    } catch {}
  }
  return input;
}

/** Listens on host:port; a port in use becomes a one-line error naming it. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use (set PORT to a free port)`)
          : error,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        // Keep-alive connections become idle as their last response goes out: close each
        // then, instead of waiting for the client (or the grace period) to drop it.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(timer);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * SIGTERM/SIGINT: call `stop` once (drain, then close resources), flush telemetry (at most
 * 2 s) and exit 0, or 1 if it fails or takes longer than `timeoutMs`.
 */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger, timeoutMs = 15_000): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), timeoutMs);
    force.unref();
    stop().then(
      // Spans of the last requests go out before the process does (bounded).
      () => flushTelemetry().finally(() => process.exit(0)),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
