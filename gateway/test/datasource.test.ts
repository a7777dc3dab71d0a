// The subgraph data source against local HTTP servers and the fault proxy: every fetch policy and its metrics.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  closeDataSources,
  createDataSource,
  type DataSourceOptions,
  fetchFieldPaths,
  hintlessDefault,
  operationTypeOf,
  RetryBudget,
  SubgraphFetchError,
  type TrellisDataSource,
} from '../src/datasource.ts';

// ---------------------------------------------------------------------------------------
// Helpers: a counting HTTP server, data sources and proxies closed after each test.

interface TestServer {
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

type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

const OK_BODY = '{"data":{"hello":"world"},"extensions":{"x":1}}';
const ok: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(OK_BODY);
const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end(`status ${code}`);
/** Answers with each handler in turn, the last one for every request after. */
const sequence =
  (...handlers: Handler[]): Handler =>
  (req, res, index) =>
    (handlers[Math.min(index, handlers.length - 1)] as Handler)(req, res, index);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()?.();
});

async function startServer(handler: Handler = ok): Promise<TestServer> {
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
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function proxyTo(server: TestServer): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

function dataSource(options: Partial<DataSourceOptions> & { url: string }): TrellisDataSource {
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

type Kind = 'incoming operation' | 'health check' | 'loading schema';

function run(
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

async function failure(promise: Promise<unknown>): Promise<SubgraphFetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SubgraphFetchError);
    return error as SubgraphFetchError;
  }
  throw new Error('expected the fetch to fail');
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

const fetches = (registry: Registry, outcome: string, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_fetches_total', { subgraph, outcome });
const retries = (registry: Registry, reason: string, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_retries_total', { subgraph, reason });
const breakerState = (registry: Registry, subgraph = 'reviews') =>
  metricValue(registry, 'trellis_gateway_subgraph_breaker_state', { subgraph });

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const QUERY = 'query Q__reviews__0 { hello }';
const MUTATION = 'mutation M__reviews__0 { addReview { id } }';

// ---------------------------------------------------------------------------------------

describe('createDataSource: the fetch', () => {
  it('POSTs one JSON body with the extra headers and returns the parsed {data, errors, extensions}', async () => {
    const server = await startServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"data":{"hello":null},"errors":[{"message":"boom","path":["hello"]}],"extensions":{"x":1}}'),
    );
    const source = dataSource({
      url: `${server.url}?v=1`,
      headers: (context) => ({ 'X-Trellis-Identity': `signed:${context.user}` }),
    });
    for (const kind of ['incoming operation', 'health check', 'loading schema'] as const) {
      const response = await run(source, QUERY, { kind, variables: { a: 1 }, context: { user: 'u1' } });
      expect(response).toEqual({
        data: { hello: null },
        errors: [{ message: 'boom', path: ['hello'] }],
        extensions: { x: 1 },
      });
    }
    expect(server.requests).toBe(3);
    expect(server.bodies[0]).toEqual({ query: QUERY, variables: { a: 1 } });
    expect(server.headers[0]?.['content-type']).toBe('application/json');
    expect(server.headers[0]?.['x-trellis-identity']).toBe('signed:u1');
  });

  it('keeps connections alive: sequential fetches, even from two data sources on one origin, use one connection', async () => {
    const server = await startServer();
    const a = dataSource({ url: server.url, name: 'a' });
    const b = dataSource({ url: `${server.url}?other`, name: 'b' });
    for (let i = 0; i < 5; i++) {
      await run(a, QUERY);
      await run(b, QUERY);
    }
    expect(server.requests).toBe(10);
    // Not one per fetch. (undici may open a second one when a fetch follows the previous
    // one before its connection is marked free, so at most two.)
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('serializes the body once and never goes through fetch()', async () => {
    const server = await startServer();
    const source = dataSource({ url: server.url });
    const stringify = vi.spyOn(JSON, 'stringify');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await run(source, QUERY, { variables: { big: 'x'.repeat(1000) } });
    expect(stringify).toHaveBeenCalledTimes(1);
    expect((stringify.mock.calls[0]?.[0] as { query?: unknown })?.query).toBe(QUERY);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('createDataSource: cache hints', () => {
  /** Runs one incoming operation and returns the hints the data source merged into its policy. */
  async function hints(source: TrellisDataSource, context: Record<string, unknown> = {}) {
    const merged: unknown[] = [];
    await source.process({
      kind: 'incoming operation',
      request: { query: '{ hello }' },
      context,
      incomingRequestContext: { overallCachePolicy: { restrict: (hint: unknown) => merged.push(hint) } },
    } as unknown as GraphQLDataSourceProcessOptions);
    return merged;
  }
  const withHeader =
    (value: string): Handler =>
    (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': value }).end(OK_BODY);
  const user = { viewer: { userId: '7', scopes: [] } };
  const service = { viewer: { userId: null, scopes: ['cache:invalidate'] } };

  it('merges the subgraph header; no header is uncacheable unless a default is configured', async () => {
    const hinted = await startServer(withHeader('max-age=30, private'));
    expect(await hints(dataSource({ url: hinted.url }))).toEqual([{ maxAge: 30, scope: 'PRIVATE' }]);
    const silent = await startServer();
    expect(await hints(dataSource({ url: silent.url }))).toEqual([{ maxAge: 0 }]);
  });

  it('applies the opt-in default only to responses without Cache-Control, shared only when anonymous', async () => {
    const silent = await startServer();
    const source = dataSource({ url: silent.url, defaultCacheHint: hintlessDefault(45) });
    expect(await hints(source)).toEqual([{ maxAge: 45, scope: 'PUBLIC' }]);
    expect(await hints(source, { viewer: { userId: null, scopes: [] } })).toEqual([{ maxAge: 45, scope: 'PUBLIC' }]);
    // Any identity makes the default per user (and a user-less identity is then never stored).
    expect(await hints(source, user)).toEqual([{ maxAge: 45, scope: 'PRIVATE' }]);
    expect(await hints(source, service)).toEqual([{ maxAge: 45, scope: 'PRIVATE' }]);
    // A subgraph that states a policy keeps it, no-store included.
    const noStore = await startServer(withHeader('no-store'));
    expect(await hints(dataSource({ url: noStore.url, defaultCacheHint: hintlessDefault(45) }))).toEqual([
      { maxAge: 0 },
    ]);
    const short = await startServer(withHeader('max-age=5, public'));
    expect(await hints(dataSource({ url: short.url, defaultCacheHint: hintlessDefault(45) }))).toEqual([{ maxAge: 5 }]);
  });
});

describe('createDataSource: in-flight deduplication', () => {
  it('shares one subgraph request between identical concurrent queries, each caller getting its own copy', async () => {
    const server = await startServer((req, res, index) => setTimeout(() => ok(req, res, index), 100));
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry });
    const results = await Promise.all(Array.from({ length: 5 }, () => run(source, QUERY)));
    expect(server.requests).toBe(1);
    for (const result of results) expect(result).toEqual(JSON.parse(OK_BODY));
    // The gateway merges into fetch results: a shared object would leak between requests.
    (results[0]?.data as Record<string, unknown>).hello = 'mutated';
    expect(results[1]?.data).toEqual({ hello: 'world' });
    expect(new Set(results).size).toBe(5);
    expect(await fetches(registry, 'ok')).toBe(1);
    expect(await fetches(registry, 'deduplicated')).toBe(4);

    // Nothing is kept once the fetch settled.
    await run(source, QUERY);
    expect(server.requests).toBe(2);
  });

  it('never shares between identities, between mutations, or with dedupe off', async () => {
    const server = await startServer((req, res, index) => setTimeout(() => ok(req, res, index), 50));
    const source = dataSource({ url: server.url, headers: (context) => ({ 'x-user': String(context.user) }) });
    await Promise.all(['u1', 'u1', 'u2'].map((user) => run(source, QUERY, { context: { user } })));
    expect(server.requests).toBe(2);

    await Promise.all([1, 2, 3].map(() => run(source, MUTATION)));
    expect(server.requests).toBe(5);

    const plain = dataSource({ url: server.url, dedupe: false });
    await Promise.all([1, 2, 3].map(() => run(plain, QUERY)));
    expect(server.requests).toBe(8);
  });
});

describe('createDataSource: deadline', () => {
  it('aborts a fetch at its deadline and fails with TIMEOUT', async () => {
    const server = await startServer(() => {}); // never answers
    const registry = new Registry();
    const source = dataSource({ url: server.url, timeoutMs: 150, registry });
    const started = performance.now();
    const error = await failure(run(source, QUERY));
    const elapsed = performance.now() - started;
    expect(error.extensions).toEqual({ code: 'TIMEOUT', subgraph: 'reviews' });
    expect(error.message).toBe('Subgraph "reviews" did not answer within 150 ms');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1000);
    // The request was aborted, not left hanging on the subgraph.
    await Promise.race([
      server.aborted,
      new Promise((_, reject) => setTimeout(() => reject(new Error('request not aborted')), 1000)),
    ]);
    expect(await fetches(registry, 'timeout')).toBe(1);
  });
});

describe('createDataSource: retries', () => {
  it('retries a query on 503 until it succeeds', async () => {
    const server = await startServer(sequence(status(503), status(503), ok));
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry });
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    expect(server.requests).toBe(3);
    expect(await retries(registry, 'http_503')).toBe(2);
    expect(await fetches(registry, 'ok')).toBe(1);
  });

  it('never retries a mutation, nor a 500, and stops after maxAttempts', async () => {
    const server = await startServer(status(503));
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry });
    const error = await failure(run(source, MUTATION));
    expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'reviews' });
    expect(server.requests).toBe(1);

    await failure(run(source, QUERY));
    expect(server.requests).toBe(1 + 3);
    expect(await retries(registry, 'http_503')).toBe(2);
    expect(await fetches(registry, 'unavailable')).toBe(2);

    const broken = await startServer(status(500));
    const other = dataSource({ url: broken.url, registry, name: 'orders' });
    await failure(run(other, QUERY));
    expect(broken.requests).toBe(1);
    expect(await fetches(registry, 'error', 'orders')).toBe(1);
  });

  it('retries connection errors, then fails with SUBGRAPH_UNAVAILABLE and nothing internal', async () => {
    const port = await closedPort();
    const registry = new Registry();
    const source = dataSource({ url: `http://127.0.0.1:${port}/graphql`, registry });
    const error = await failure(run(source, QUERY));
    expect(error.message).toBe('Subgraph "reviews" is unavailable');
    expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'reviews' });
    const json = JSON.stringify(error);
    for (const secret of ['ECONNREFUSED', '127.0.0.1', String(port), 'stack', 'at ']) {
      expect(json).not.toContain(secret);
    }
    expect(await retries(registry, 'connection')).toBe(2);
    // Connection resets (through the fault proxy) are connection errors too.
    const server = await startServer();
    const proxy = await proxyTo(server);
    proxy.setMode('reset');
    const reset = dataSource({ url: proxy.url(), registry, name: 'inventory' });
    await failure(run(reset, QUERY));
    expect(proxy.connections).toBe(3);
    expect(await retries(registry, 'connection', 'inventory')).toBe(2);
    expect(server.requests).toBe(0);
  });

  it('honours Retry-After on 429 (capped at maxDelayMs) and skips the retry when it exceeds the deadline', async () => {
    const server = await startServer(sequence(status(429, { 'retry-after': '1' }), ok));
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry, retry: { maxDelayMs: 50 } });
    let started = performance.now();
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    expect(performance.now() - started).toBeLessThan(700);
    expect(server.requests).toBe(2);
    expect(await retries(registry, 'http_429')).toBe(1);

    const busy = await startServer(status(429, { 'retry-after': '30' }));
    const patient = dataSource({ url: busy.url, registry, name: 'orders', timeoutMs: 1000 });
    started = performance.now();
    const error = await failure(run(patient, QUERY));
    expect(error.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(300);
    expect(busy.requests).toBe(1);
  });

  it('keeps retries and backoff inside the deadline', async () => {
    const server = await startServer(status(503));
    const source = dataSource({
      url: server.url,
      timeoutMs: 300,
      retry: { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 400 },
    });
    const started = performance.now();
    const error = await failure(run(source, QUERY));
    expect(performance.now() - started).toBeLessThan(450);
    expect(['SUBGRAPH_UNAVAILABLE', 'TIMEOUT']).toContain(error.extensions?.code);
  });

  it('uses full-jitter exponential backoff', () => {
    const policy = { baseDelayMs: 25, maxDelayMs: 250 };
    expect(backoffDelay(0, policy, () => 0)).toBe(0);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0.5))).toEqual([12.5, 25, 50, 100, 125, 125]);
    for (let n = 0; n < 8; n++) {
      const delay = backoffDelay(n, policy);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(250, 25 * 2 ** n));
    }
  });

  it('spends at most the retry budget, counting the retries it refused', async () => {
    const server = await startServer(status(503));
    const registry = new Registry();
    const source = dataSource({
      url: server.url,
      registry,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, budgetRatio: 0.2, minRetriesPerSecond: 0 },
      // Keep the breaker out of it: only the budget may stop a retry here.
      breaker: { volumeThreshold: 1_000_000 },
    });
    const requests = 50;
    for (let i = 0; i < requests; i++) await failure(run(source, QUERY));
    const made = await retries(registry, 'http_503');
    // A burst allowance of 10, then one retry per five requests.
    expect(made).toBeGreaterThanOrEqual(10);
    expect(made).toBeLessThanOrEqual(10 + 0.2 * requests);
    expect(server.requests).toBe(requests + made);
    expect(
      await metricValue(registry, 'trellis_gateway_subgraph_retry_budget_exhausted_total', { subgraph: 'reviews' }),
    ).toBe(requests - made);
  });

  it('refills the budget over time so a quiet gateway can still retry', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 1, 10, () => now);
    for (let i = 0; i < 10; i++) expect(budget.trySpend()).toBe(true);
    expect(budget.trySpend()).toBe(false);
    now += 1000;
    expect(budget.trySpend()).toBe(true);
    expect(budget.trySpend()).toBe(false);
    for (let i = 0; i < 5; i++) budget.deposit();
    expect(budget.trySpend()).toBe(true);
  });
});

describe('createDataSource: circuit breaker', () => {
  it('opens on 5xx, then fails fast without touching the network; a half-open success closes it', async () => {
    let healthy = false;
    const server = await startServer((req, res, index) => (healthy ? ok : status(500))(req, res, index));
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry, breaker: { volumeThreshold: 4, resetTimeout: 200 } });
    for (let i = 0; i < 4; i++) await failure(run(source, QUERY));
    expect(await breakerState(registry)).toBe(2);

    const started = performance.now();
    const error = await failure(run(source, QUERY));
    expect(performance.now() - started).toBeLessThan(50);
    expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'reviews' });
    expect(server.requests).toBe(4);

    await until(async () => (await breakerState(registry)) === 1);
    healthy = true;
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    expect(await breakerState(registry)).toBe(0);
  });

  it('while open, probes the subgraph readiness route and closes as soon as it answers 200', async () => {
    let healthy = false;
    let probes = 0;
    const server = await startServer((req, res, index) => {
      if (req.method === 'GET' && req.url === '/health/ready') {
        probes++;
        res.writeHead(healthy ? 200 : 503).end();
        return;
      }
      (healthy ? ok : status(500))(req, res, index);
    });
    const registry = new Registry();
    // A half-open trial would wait 30 s: only the probe can close it in time.
    const source = dataSource({ url: server.url, registry, breaker: { volumeThreshold: 4, resetTimeout: 30_000 } });
    for (let i = 0; i < 4; i++) await failure(run(source, QUERY));
    expect(await breakerState(registry)).toBe(2);
    await until(() => probes >= 2, 3000); // not ready yet: stays open
    expect(await breakerState(registry)).toBe(2);
    healthy = true;
    const reopened = performance.now();
    await until(async () => (await breakerState(registry)) === 0, 3000);
    expect(performance.now() - reopened).toBeLessThan(1500);
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    // Closed: no more probes.
    const after = probes;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(probes).toBe(after);
  });

  it('a subgraph without a readiness route recovers through the half-open trial only', async () => {
    let healthy = false;
    const server = await startServer((req, res, index) => {
      if (req.method === 'GET') return void status(404)(req, res, index);
      (healthy ? ok : status(500))(req, res, index);
    });
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry, breaker: { volumeThreshold: 4, resetTimeout: 30_000 } });
    for (let i = 0; i < 4; i++) await failure(run(source, QUERY));
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await breakerState(registry)).toBe(2);
    expect((await failure(run(source, QUERY))).extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });

  it('does not count GraphQL errors (HTTP 200) nor 4xx as failures', async () => {
    const server = await startServer(
      sequence(
        ...Array.from({ length: 4 }, (): Handler => (_req, res) => res.end('{"errors":[{"message":"nope"}]}')),
        status(400),
      ),
    );
    const registry = new Registry();
    const source = dataSource({ url: server.url, registry, breaker: { volumeThreshold: 4 } });
    // Were these failures, 4 of 4 would open the breaker, and then 8 of 12.
    for (let i = 0; i < 4; i++) expect((await run(source, QUERY)).errors).toEqual([{ message: 'nope' }]);
    for (let i = 0; i < 8; i++) await failure(run(source, QUERY));
    expect(server.requests).toBe(12);
    expect(await breakerState(registry)).toBe(0);
    expect(await fetches(registry, 'ok')).toBe(4);
    expect(await fetches(registry, 'error')).toBe(8);
  });

  it('counts timeouts (blackhole) and connection resets as failures', async () => {
    const server = await startServer();
    const registry = new Registry();
    const blackhole = await proxyTo(server);
    blackhole.setMode('blackhole');
    const slow = dataSource({
      url: blackhole.url(),
      registry,
      name: 'inventory',
      timeoutMs: 80,
      retry: { maxAttempts: 1 },
      breaker: { volumeThreshold: 2 },
    });
    for (let i = 0; i < 2; i++) expect((await failure(run(slow, QUERY))).extensions?.code).toBe('TIMEOUT');
    expect(await breakerState(registry, 'inventory')).toBe(2);
    const started = performance.now();
    expect((await failure(run(slow, QUERY))).extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(50);

    const reset = await proxyTo(server);
    reset.setMode('reset');
    const broken = dataSource({
      url: reset.url(),
      registry,
      name: 'orders',
      retry: { maxAttempts: 1 },
      breaker: { volumeThreshold: 3 },
    });
    for (let i = 0; i < 3; i++) await failure(run(broken, QUERY));
    expect(await breakerState(registry, 'orders')).toBe(2);
    await failure(run(broken, QUERY));
    expect(reset.connections).toBe(3);
    expect(server.requests).toBe(0);
  });
});

describe('createDataSource: errors for the gateway', () => {
  it('answers a failed incoming operation with one error per field, at subgraph-side paths the gateway maps', async () => {
    const source = dataSource({ url: `http://127.0.0.1:${await closedPort()}/graphql`, retry: { maxAttempts: 1 } });
    const entities = await run(
      source,
      'query Q__inventory__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock qty:quantity __typename}}}',
      {
        kind: 'incoming operation',
        variables: {
          representations: [
            { __typename: 'Product', id: '1' },
            { __typename: 'Product', id: '2' },
          ],
        },
      },
    );
    const extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'reviews' };
    const message = 'Subgraph "reviews" is unavailable';
    expect(entities).toEqual({
      errors: [
        { message, extensions, path: ['_entities', 0, 'inStock'] },
        { message, extensions, path: ['_entities', 0, 'qty'] },
        { message, extensions, path: ['_entities', 1, 'inStock'] },
        { message, extensions, path: ['_entities', 1, 'qty'] },
      ],
    });

    const root = await run(
      source,
      'query Q__reviews__0{a:product(id:"7"){id} ...F} fragment F on Query{b:products{id}}',
      {
        kind: 'incoming operation',
      },
    );
    expect(root.errors?.map((e) => e.path)).toEqual([['a'], ['b']]);

    // Outside an incoming operation (health check, schema loading) the error is thrown.
    await failure(run(source, QUERY, { kind: 'health check' }));
  });

  it('reads operation types and field paths', () => {
    expect(operationTypeOf('{ a }')).toBe('query');
    expect(operationTypeOf('query X { a }')).toBe('query');
    expect(operationTypeOf('  mutation X { a }')).toBe('mutation');
    expect(operationTypeOf('fragment F on Q { a } query X { ...F }')).toBe('query');
    expect(operationTypeOf('fragment F on M { a } mutation X { ...F }', 'X')).toBe('mutation');
    expect(operationTypeOf('not graphql')).toBe('mutation');
    expect(fetchFieldPaths('mutation { addReview(input: {}) { id } }', undefined, undefined)).toEqual([['addReview']]);
    expect(fetchFieldPaths('not graphql', undefined, undefined)).toEqual([]);
  });
});

describe('createDataSource: metrics and lifecycle', () => {
  it('registers the metrics once per registry, shared by data sources and labelled by subgraph', async () => {
    const server = await startServer();
    const registry = new Registry();
    const a = dataSource({ url: server.url, registry, name: 'products' });
    const b = dataSource({ url: server.url, registry, name: 'inventory' });
    await run(a, QUERY);
    await run(b, QUERY);
    await run(b, QUERY);
    const text = await registry.metrics();
    for (const name of [
      'trellis_gateway_subgraph_fetches_total',
      'trellis_gateway_subgraph_fetch_duration_seconds',
      'trellis_gateway_subgraph_retries_total',
      'trellis_gateway_subgraph_retry_budget_exhausted_total',
      'trellis_gateway_subgraph_breaker_state',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(await fetches(registry, 'ok', 'products')).toBe(1);
    expect(await fetches(registry, 'ok', 'inventory')).toBe(2);
    const histogram = await registry.getSingleMetric('trellis_gateway_subgraph_fetch_duration_seconds')?.get();
    const count = (
      (histogram?.values ?? []) as { metricName?: string; labels: { subgraph?: string }; value: number }[]
    ).find(
      (v) =>
        v.metricName === 'trellis_gateway_subgraph_fetch_duration_seconds_count' && v.labels.subgraph === 'inventory',
    );
    expect(count?.value).toBe(2);
    expect(await breakerState(registry, 'products')).toBe(0);
  });

  it('close() destroys the pool: the subgraph sees the connection end and later fetches fail fast', async () => {
    const server = await startServer();
    const a = dataSource({ url: server.url, name: 'a' });
    const b = dataSource({ url: server.url, name: 'b' });
    await run(a, QUERY);
    await run(b, QUERY);
    expect(server.sockets.size).toBeGreaterThan(0);
    await closeDataSources([a]);
    // b still uses the origin's pool: its keep-alive connections stay.
    await run(b, QUERY);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBeGreaterThan(0);
    await closeDataSources([b]);
    await until(() => server.sockets.size === 0, 1000);
    expect((await failure(run(a, QUERY))).extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });

  it('goes through the fault proxy: latency delays both directions', async () => {
    const server = await startServer();
    const proxy = await proxyTo(server);
    const source = dataSource({ url: proxy.url() });
    await run(source, QUERY); // connect first
    proxy.setMode('latency', { latencyMs: 100 });
    const started = performance.now();
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    proxy.setMode('pass');
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
  });
});
