// Shared by the subgraph-fetch tests: a counting HTTP server, data sources and fault proxies
// closed after each test, and readers of the fetch metrics.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { Registry } from 'prom-client';
import { afterEach, expect, vi } from 'vitest';
import {
  createDataSource,
  type DataSourceOptions,
  SubgraphFetchError,
  type TrellisDataSource,
} from '../../src/subgraph-fetch/index.ts';

export interface TestServer {
  url: string;
  port: number;
  requests: number;
  connections: number;
  bodies: any[];
  headers: IncomingMessage['headers'][];
  sockets: Set<Socket>;
  /** Resolves when a request's connection closes before it was answered. */
  aborted: Promise<void>;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export const OK_BODY = '{"data":{"hello":"world"},"extensions":{"x":1}}';
export const ok: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(OK_BODY);
export const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end(`status ${code}`);
/** Answers with each handler in turn, the last one for every request after. */
export const sequence =
  (...handlers: Handler[]): Handler =>
  (req, res, index) =>
    (handlers[Math.min(index, handlers.length - 1)] as Handler)(req, res, index);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()?.();
});

export async function startServer(handler: Handler = ok): Promise<TestServer> {
  let onAbort: () => void = () => {};
  const state: TestServer = {
    url: '',
    port: 0,
    requests: 0,
    connections: 0,
    bodies: [],
    headers: [],
    sockets: new Set(),
    aborted: new Promise<void>((resolve) => {
      onAbort = resolve;
    }),
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const index = state.requests++;
    state.headers.push(req.headers);
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      state.bodies.push(text ? JSON.parse(text) : undefined);
      res.on('close', () => {
        if (!res.writableFinished) onAbort();
      });
      handler(req, res, index);
    });
  });
  server.on('connection', (socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on('close', () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}/graphql`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(() => state.close());
  return state;
}

/** A port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function proxyTo(server: TestServer): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

export function dataSource(options: Partial<DataSourceOptions> & { url: string }): TrellisDataSource {
  const source = createDataSource({
    name: 'reviews',
    registry: new Registry(),
    // Tests fail fast: short backoff unless a test says otherwise.
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  cleanups.push(() => source.close());
  return source;
}

export type Kind = 'incoming operation' | 'health check' | 'loading schema';

export function run(
  source: TrellisDataSource,
  query: string,
  options: { variables?: Record<string, unknown>; kind?: Kind; context?: Record<string, unknown> } = {},
) {
  const kind = options.kind ?? 'health check';
  return source.process({
    kind,
    request: { query, variables: options.variables },
    context: options.context ?? {},
    ...(kind === 'incoming operation' ? { incomingRequestContext: {} } : {}),
  } as unknown as GraphQLDataSourceProcessOptions);
}

export async function failure(promise: Promise<unknown>): Promise<SubgraphFetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SubgraphFetchError);
    return error as SubgraphFetchError;
  }
  throw new Error('expected the fetch to fail');
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

export const fetches = (registry: Registry, outcome: string, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_fetches_total', { subgraph, outcome });
export const retries = (registry: Registry, reason: string, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_retries_total', { subgraph, reason });
export const breakerState = (registry: Registry, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_breaker_state', { subgraph });

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const QUERY = 'query Q__reviews__0 { hello }';
export const MUTATION = 'mutation M__reviews__0 { addReview { id } }';
