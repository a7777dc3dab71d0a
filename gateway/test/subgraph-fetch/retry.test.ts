// The deadline, retries (which failures, Retry-After, backoff within the deadline) and the retry
// budget. The backoff formula itself is tested in @trellis/resilience (backoff.test.ts).
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/subgraph-fetch/index.ts';
import {
  closedPort,
  dataSource,
  failure,
  fetches,
  MUTATION,
  metricValue,
  OK_BODY,
  ok,
  proxyTo,
  QUERY,
  retries,
  run,
  sequence,
  startServer,
  status,
} from './harness.ts';

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

  it('never retries a mutation, nor a 500, and stops after attempts', async () => {
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
      retry: { attempts: 20, baseDelayMs: 100, maxDelayMs: 400 },
    });
    const started = performance.now();
    const error = await failure(run(source, QUERY));
    expect(performance.now() - started).toBeLessThan(450);
    expect(['SUBGRAPH_UNAVAILABLE', 'TIMEOUT']).toContain(error.extensions?.code);
  });

  it('spends at most the retry budget, counting the retries it refused', async () => {
    const server = await startServer(status(503));
    const registry = new Registry();
    const source = dataSource({
      url: server.url,
      registry,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, budgetRatio: 0.2, minRetriesPerSecond: 0 },
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
