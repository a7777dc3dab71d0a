// Client identity at the gateway: `apollographql-client-name`/`-version` label the request
// metrics for computed answers and cached hits alike; invalid names count as unknown and are
// served as usual; 10,000 distinct names keep the `client` label set bounded.
import type { RunningGateway } from '@trellis/gateway';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function requestSeries(gateway: RunningGateway) {
  const metric = await gateway.registry.getSingleMetric('trellis_graphql_requests_total')?.get();
  return metric?.values ?? [];
}

describe('client identity', () => {
  let graph: TestGraph;
  const MAX = 5;
  beforeAll(async () => {
    graph = await startGraph(inject('databaseUrl'), {
      responseCache: { enabled: true, timeoutMs: 50 },
      gateway: { clients: { max: MAX } },
    });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  const tag = `k${Date.now()}`;
  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
  const count = async (operation: string, client: string) =>
    (await requestSeries(graph.gateway))
      .filter((v) => v.labels.operation === operation && v.labels.client === client)
      .reduce((sum, v) => sum + v.value, 0);

  it('labels computed answers and cached hits with the client name', async () => {
    const operation = `Named_${tag}`;
    const query = `query ${operation} { products(first: 2) { edges { node { id } } } }`;
    const web = { 'apollographql-client-name': 'web', 'apollographql-client-version': '1.0.0' };
    expect((await post(query, web)).headers.get('x-cache')).toBe('MISS');
    await sleep(100);
    expect((await post(query, web)).headers.get('x-cache')).toBe('HIT');
    expect((await post(query)).headers.get('x-cache')).toBe('HIT');
    expect(await count(operation, 'web')).toBe(2);
    expect(await count(operation, 'unknown')).toBe(1);
  });

  it('serves requests with invalid names as usual, counted as unknown', async () => {
    const operation = `Invalid_${tag}`;
    const query = `query ${operation} { product(id: "1") { id } }`;
    for (const name of ['web\tapp', 'w'.repeat(10_240), 'wéb']) {
      const response = await post(query, { 'apollographql-client-name': name });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown }).data).toEqual({ product: { id: '1' } });
    }
    expect(await count(operation, 'unknown')).toBe(3);
  });

  it('10,000 distinct client names: at most MAX named labels, the rest `other`', async () => {
    const operation = `Many_${tag}`;
    const query = `query ${operation} { __typename }`;
    let next = 0;
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        const response = await post(query, { 'apollographql-client-name': `client-${tag}-${i}` });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const clients = new Set((await requestSeries(graph.gateway)).map((v) => v.labels.client));
    const named = [...clients].filter((c) => c !== 'other' && c !== 'unknown');
    expect(named.length).toBeLessThanOrEqual(MAX);
    expect(await count(operation, 'other')).toBeGreaterThanOrEqual(10_000 - MAX);
    const total = (await requestSeries(graph.gateway))
      .filter((v) => v.labels.operation === operation)
      .reduce((sum, v) => sum + v.value, 0);
    expect(total).toBe(10_000);
  });
});
