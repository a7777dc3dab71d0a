// The circuit breaker per subgraph: what counts as a failure, fast failures while open, the
// half-open trial and the readiness probe.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  breakerState,
  dataSource,
  failure,
  fetches,
  type Handler,
  OK_BODY,
  ok,
  proxyTo,
  QUERY,
  run,
  sequence,
  startServer,
  status,
  until,
} from './harness.ts';

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
      retry: { attempts: 1 },
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
      retry: { attempts: 1 },
      breaker: { volumeThreshold: 3 },
    });
    for (let i = 0; i < 3; i++) await failure(run(broken, QUERY));
    expect(await breakerState(registry, 'orders')).toBe(2);
    await failure(run(broken, QUERY));
    expect(reset.connections).toBe(3);
    expect(server.requests).toBe(0);
  });
});
