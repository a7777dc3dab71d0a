// In-flight deduplication: identical concurrent queries share one subgraph request; through
// the whole gateway, SUBGRAPH_DEDUP switches it (on by default).
import { join } from 'node:path';
import { graphql } from '@trellis/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { testGatewayConfig } from '../../../tools/src/harness.ts';
import { ROOT } from '../../../tools/src/workspace.ts';
import { gatewayConfig } from '../../src/env.ts';
import { startGateway } from '../../src/index.ts';
import { dataSource, fetches, MUTATION, OK_BODY, ok, QUERY, run, startServer, until } from './harness.ts';

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

describe('SUBGRAPH_DEDUP', () => {
  it('is on by default; off and on are the only values', () => {
    expect(gatewayConfig([], {}).subgraphDedup).toBe(true);
    expect(gatewayConfig([], { SUBGRAPH_DEDUP: 'on' }).subgraphDedup).toBe(true);
    expect(gatewayConfig([], { SUBGRAPH_DEDUP: 'off' }).subgraphDedup).toBe(false);
  });

  const CLIENTS = 5;
  const PRODUCT = { data: { product: { id: '1', name: 'Widget' } } };

  /**
   * CLIENTS identical queries through a gateway whose products subgraph (a stub) holds every
   * answer until all CLIENTS fetches arrived, or one arrived and a second passed (time for the
   * others to reach the data source and join it); returns the fetches the stub received.
   */
  async function subgraphFetches(env: Record<string, string>): Promise<{ received: number; deduplicated: number }> {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const products = await startServer((_req, res) => {
      void held.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(PRODUCT)));
    });
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: join(ROOT, 'supergraph.graphql'),
        subgraphUrls: { products: products.url },
        subgraphDedup: gatewayConfig([], env).subgraphDedup,
        // Inbound deduplication would run these queries once before any fetch (operation-dedupe.ts).
        operationDedup: false,
      }),
    );
    try {
      const query = 'query Dedup { product(id: "1") { id name } }';
      const answers = Promise.all(Array.from({ length: CLIENTS }, () => graphql(`${gateway.url}/graphql`, query)));
      await until(() => products.requests >= 1, 10_000);
      const firstAt = Date.now();
      await until(() => products.requests >= CLIENTS || Date.now() - firstAt >= 1000, 10_000);
      release();
      for (const answer of await answers) expect(answer.body).toEqual(PRODUCT);
      return {
        received: products.requests,
        deduplicated: await fetches(gateway.registry, 'deduplicated', 'products'),
      };
    } finally {
      release();
      await gateway.stop();
    }
  }

  it('counts one subgraph fetch for identical concurrent queries when on, one per query when off', async () => {
    expect(await subgraphFetches({})).toEqual({ received: 1, deduplicated: CLIENTS - 1 });
    expect(await subgraphFetches({ SUBGRAPH_DEDUP: 'on' })).toEqual({ received: 1, deduplicated: CLIENTS - 1 });
    expect(await subgraphFetches({ SUBGRAPH_DEDUP: 'off' })).toEqual({ received: CLIENTS, deduplicated: 0 });
  });
});
