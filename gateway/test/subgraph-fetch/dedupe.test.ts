// In-flight deduplication: identical concurrent queries share one subgraph request.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { dataSource, fetches, MUTATION, OK_BODY, ok, QUERY, run, startServer } from './harness.ts';

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
