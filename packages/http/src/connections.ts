// Connection hygiene for every service's HTTP server: header and request timeouts sized for
// an API (checked every second, not Node's 30 s), the keep-alive timeout, a connection cap,
// and typed JSON for what Node refuses before any handler runs (431 header overflow, 408
// timeouts, 400 malformed HTTP: Node's own answers have empty bodies).
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '@trellis/errors';
import type { InputBounds } from './input.ts';

/**
 * How long a client may take and how many may be connected. Sized for an API behind an
 * ingress: a request is small and quick, so a client still sending headers after seconds is
 * broken or hostile; Node's defaults (headers 60 s, request 300 s, no cap, checked every 30 s)
 * let stalled sockets pile up for minutes.
 */
export interface ConnectionLimits {
  /** Time to receive the complete headers (408 after). @default 10_000 */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (408 after). @default 30_000 */
  requestTimeoutMs: number;
  /**
   * Idle time a keep-alive connection is kept between requests. Above the idle timeout of the
   * load balancer or ingress in front (60 s for most), so it is the proxy that closes an idle
   * upstream connection, never this server while the proxy sends on it (a 502). @default 65_000
   */
  keepAliveTimeoutMs: number;
  /** Connections at once; further ones are closed at accept. @default 10_000 */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
};

/** The HTTP bounds from a service's validated environment (@trellis/config httpFields). */
export function httpLimits(env: {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_MAX_CONNECTIONS: number;
  MAX_VARIABLES_DEPTH: number;
  MAX_VARIABLES_VALUES: number;
}): { connections: ConnectionLimits; inputBounds: InputBounds } {
  return {
    connections: {
      // Node refuses a header timeout longer than the request's.
      headersTimeoutMs: Math.min(env.HTTP_HEADERS_TIMEOUT_MS, env.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: env.HTTP_MAX_CONNECTIONS,
    },
    inputBounds: { maxDepth: env.MAX_VARIABLES_DEPTH, maxValues: env.MAX_VARIABLES_VALUES },
  };
}

/**
 * A node:http server with `limits` applied (timeouts checked every second, the connection
 * cap) whose refusals before any handler are typed JSON: every service's server, the
 * GraphQL front above and the workers' health and metrics servers alike.
 */
export function createBoundedServer(
  limits: ConnectionLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts every 30 s by default: a stalled socket would outlive its bound.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  return server;
}

/** The typed answer to a refusal before any handler: the whole HTTP response, built once per status. */
const refusals = new Map<number, string>();
function refusal(status: 400 | 408 | 431, message: string): string {
  let response = refusals.get(status);
  if (response === undefined) {
    const body = JSON.stringify({ errors: [{ message, extensions: { code: ErrorCode.BAD_REQUEST } }] });
    response =
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
    refusals.set(status, response);
  }
  return response;
}

/**
 * Timed-out sockets are answered paced rather than all at once. Node finds them in its
 * once-a-second check, so a wave of clients that stalled together expires together, and
 * answering 1,000 in one go (a write and a close each, ~70 µs) blocked the event loop for
 * ~80 ms, which every request in flight paid (tools/suites/edge.fault.test.ts, slow clients).
 * Paced, each tick answers `TIMEOUT_ANSWERS_PER_TICK` (more when the queue is long, so any
 * queue drains within `TIMEOUT_DRAIN_TICKS` ticks, about a second) every `TIMEOUT_TICK_MS`: a
 * fifth of a core at most, spread over a few hundred milliseconds.
 */
export const TIMEOUT_TICK_MS = 5;
export const TIMEOUT_ANSWERS_PER_TICK = 16;
const TIMEOUT_DRAIN_TICKS = 200;
const timedOut: Socket[] = [];
const queued = Symbol('trellis.timeoutAnswerQueued');
/** A drain tick is scheduled. */
let draining = false;

function answerTimedOut(): void {
  const count = Math.max(TIMEOUT_ANSWERS_PER_TICK, Math.ceil(timedOut.length / TIMEOUT_DRAIN_TICKS));
  for (const socket of timedOut.splice(0, count)) answer(socket, refusal(408, 'Request was not received in time'));
  draining = timedOut.length > 0;
  if (draining) setTimeout(answerTimedOut, TIMEOUT_TICK_MS).unref();
}

function answer(socket: Socket, response: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(response, () => socket.destroy());
}

/**
 * Requests Node refuses before a handler runs (headers over the limit, malformed HTTP, the
 * header or request timeout) get a typed JSON body like every other refusal — Node's own
 * answer is an empty 431/400/408 — and the socket is closed once it is written. Timeouts are
 * answered paced (above).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket & { [queued]?: true }): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    if (socket[queued]) return;
    socket[queued] = true;
    // Read nothing more from a client that is being cut off.
    socket.pause();
    timedOut.push(socket);
    if (!draining) {
      draining = true;
      setTimeout(answerTimedOut, 0).unref();
    }
    return;
  }
  answer(
    socket,
    error.code === 'HPE_HEADER_OVERFLOW'
      ? refusal(431, 'Request headers are too large')
      : refusal(400, 'Malformed HTTP request'),
  );
}
