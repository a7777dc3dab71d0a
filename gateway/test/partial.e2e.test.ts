// Partial results through the real gateway when inventory is slow, resetting or stopped: errors at inventory's paths.

import { graphql } from '@trellis/testing';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig } from '../../tools/src/harness.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

let graph: TestGraph;
let proxy: FaultProxy;
/** A second gateway over the same subgraphs, reaching inventory through the fault proxy. */
let faulty: RunningGateway;

beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  const inventory = new URL(graph.subgraphs.inventory!.url);
  proxy = await startFaultProxy({ target: { host: inventory.hostname, port: Number(inventory.port) } });
  faulty = await startGateway(
    testGatewayConfig({ supergraphPath: graph.supergraphPath, subgraphUrls: { inventory: proxy.url('/graphql') } }),
  );
});
afterAll(async () => {
  await faulty?.stop();
  await proxy?.close();
  await graph?.stop();
});

// `inStock` is `Boolean!`, so when inventory fails GraphQL's null propagation empties the
// nearest nullable parent (`stock`); the rest of the response keeps products' data.
const PARTIAL = /* GraphQL */ `
  query Partial {
    catalogue: products(first: 3) {
      edges {
        node {
          id
          name
        }
      }
    }
    stock: product(id: "7") {
      id
      name
      inStock
    }
  }
`;

const faultyUrl = () => `${faulty.url}/graphql`;

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const values = (await faulty.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
}

function expectCatalogue(data: any): void {
  expect(data.catalogue.edges).toHaveLength(3);
  for (const edge of data.catalogue.edges) {
    expect(edge.node.id).toMatch(/^\d+$/);
    expect(edge.node.name).toEqual(expect.any(String));
  }
}

describe('partial results when a subgraph fails', () => {
  it('answers in full while the proxy passes traffic', async () => {
    const { status, body } = await graphql<any>(faultyUrl(), PARTIAL);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expectCatalogue(body.data);
    expect(body.data.stock).toEqual({ id: '7', name: expect.any(String), inStock: expect.any(Boolean) });
    expect(proxy.connections).toBeGreaterThan(0);
  });

  it('a blackholed inventory: TIMEOUT at stock.inStock within the deadline, products data kept', async () => {
    proxy.setMode('blackhole');
    const started = performance.now();
    const { status, body } = await graphql<any>(faultyUrl(), PARTIAL);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(4900); // the data source's default deadline, 5 s
    expect(elapsed).toBeLessThan(8000);
    expect(status).toBe(200);
    expectCatalogue(body.data);
    expect(body.data.stock).toBeNull();
    expect(body.errors).toEqual([
      {
        message: 'Subgraph "inventory" did not answer within 5000 ms',
        path: ['stock', 'inStock'],
        extensions: { code: 'TIMEOUT', subgraph: 'inventory', serviceName: 'inventory' },
      },
    ]);
    expect(await metric('trellis_gateway_subgraph_fetches_total', { subgraph: 'inventory', outcome: 'timeout' })).toBe(
      1,
    );
  });

  it('an inventory that resets connections: SUBGRAPH_UNAVAILABLE at each inventory field, after retries', async () => {
    proxy.setMode('reset');
    const partial = await graphql<any>(faultyUrl(), PARTIAL);
    expectCatalogue(partial.body.data);
    expect(partial.body.data.stock).toBeNull();
    expect(partial.body.errors).toEqual([
      {
        message: 'Subgraph "inventory" is unavailable',
        path: ['stock', 'inStock'],
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'inventory', serviceName: 'inventory' },
      },
    ]);

    // A list: one error per product, at its own path (here null propagation reaches the root).
    const list = await graphql<any>(faultyUrl(), '{ products(first: 3) { edges { node { id inStock } } } }');
    expect(list.body.errors?.map((e) => e.path)).toEqual(
      [0, 1, 2].map((i) => ['products', 'edges', i, 'node', 'inStock']),
    );
    expect(list.body.errors?.every((e) => e.extensions?.code === 'SUBGRAPH_UNAVAILABLE')).toBe(true);
    expect(JSON.stringify(list.body)).not.toMatch(/ECONN|127\.0\.0\.1|stack/);

    expect(
      await metric('trellis_gateway_subgraph_fetches_total', { subgraph: 'inventory', outcome: 'unavailable' }),
    ).toBe(2);
    expect(
      await metric('trellis_gateway_subgraph_retries_total', { subgraph: 'inventory', reason: 'connection' }),
    ).toBe(4);
  });

  it('recovers as soon as inventory answers again', async () => {
    proxy.setMode('pass');
    const { body } = await graphql<any>(faultyUrl(), PARTIAL);
    expect(body.errors).toBeUndefined();
    expect(body.data.stock.inStock).toEqual(expect.any(Boolean));
    expect(await metric('trellis_gateway_subgraph_breaker_state', { subgraph: 'inventory' })).toBe(0);
  });

  it('a subgraph at its concurrency limit: fetches beyond it queue briefly, then SUBGRAPH_UNAVAILABLE, fast; the rest kept', async () => {
    const limited = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        subgraphUrls: { inventory: proxy.url('/graphql') },
        subgraphConcurrency: { maxInFlight: 8, queueMs: 50, perSubgraph: { inventory: 1 } },
      }),
    );
    proxy.setMode('latency', { latencyMs: 300 });
    try {
      // Distinct products: no two fetches are deduplicated into one.
      const started = performance.now();
      const answers = await Promise.all(
        ['7', '8', '9', '10'].map(async (id) => {
          const response = await graphql<any>(`${limited.url}/graphql`, PARTIAL.replace('"7"', `"${id}"`));
          return { ...response, ms: performance.now() - started };
        }),
      );
      for (const { status, body } of answers) {
        expect(status).toBe(200);
        expectCatalogue(body.data);
      }
      const served = answers.filter((a) => a.body.data.stock !== null);
      const refused = answers.filter((a) => a.body.data.stock === null);
      expect(served.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const { body } of refused) {
        expect(body.errors).toEqual([
          {
            message: 'Subgraph "inventory" is unavailable',
            path: ['stock', 'inStock'],
            extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'inventory', serviceName: 'inventory' },
          },
        ]);
      }
      // Refused after the queue's 50 ms, not after the slow subgraph's 300+ ms.
      expect(Math.min(...refused.map((a) => a.ms))).toBeLessThan(Math.max(...served.map((a) => a.ms)));
      const rejected = (
        await limited.registry.getSingleMetric('trellis_gateway_subgraph_concurrency_rejected_total')?.get()
      )?.values
        .filter((v) => v.labels.subgraph === 'inventory')
        .reduce((sum, v) => sum + v.value, 0);
      expect(rejected).toBe(refused.length);
    } finally {
      proxy.setMode('pass');
      await limited.stop();
    }
  });

  it('a stopped inventory subgraph: SUBGRAPH_UNAVAILABLE through the harness gateway, fast', async () => {
    const port = new URL(graph.subgraphs.inventory!.url).port;
    await graph.subgraphs.inventory!.running.stop();
    const started = performance.now();
    const { body } = await graphql<any>(graph.url, PARTIAL);
    expect(performance.now() - started).toBeLessThan(2000);
    expectCatalogue(body.data);
    expect(body.data.stock).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toMatchObject({
      message: 'Subgraph "inventory" is unavailable',
      path: ['stock', 'inStock'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'inventory' },
    });
    expect(JSON.stringify(body)).not.toContain(port);
  });
});
