// Operation usage recorded at the gateway: the storefront's operations through a real graph
// land in `gateway_usage` after a flush (signature, coordinates through fragments, client and
// version, counts, errors, latency); two replicas add to the same rows; a database that is
// down or read-only for the usage tables drops batches with a metric and never touches a
// request; malformed client names are recorded as unnamed.

import { postgres, withDatabase } from '@trellis/db';
import { type GatewayConfig, type RunningGateway, startGateway } from '@trellis/gateway';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig } from '../../tools/src/harness.ts';
import { storefront } from '../../tools/src/storefront.ts';
import { DEFAULT_USAGE } from '../src/usage/recorder.ts';

const STOREFRONT = { 'apollographql-client-name': 'trellis-storefront', 'apollographql-client-version': '1.2.0' };

async function post(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: unknown[] } };
}

async function metricValue(gateway: RunningGateway, name: string, labels: Record<string, string> = {}) {
  const metric = await gateway.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('usage reporting', () => {
  let graph: TestGraph;
  let usageDb: TestDatabase;
  let sql: postgres.Sql;
  const usage = (databaseUrl: string): GatewayConfig['usage'] => ({
    ...DEFAULT_USAGE,
    databaseUrl,
    // Flushed by the test.
    flushIntervalMs: 3_600_000,
  });
  beforeAll(async () => {
    usageDb = await createTestDatabase(inject('databaseUrl'), 'trellis_usage');
    sql = postgres(usageDb.url, { max: 1, onnotice: () => {} });
    graph = await startGraph(inject('databaseUrl'), { gateway: { usage: usage(usageDb.url) } });
  });
  afterAll(async () => {
    await graph?.stop();
    await sql?.end();
    await usageDb?.drop();
  });

  it('records the storefront operations with client, counts, errors, latency and coordinates', async () => {
    for (let i = 0; i < 3; i++) {
      const catalogue = await post(graph.url, storefront('Catalogue'), { first: 5 + i }, STOREFRONT);
      expect(catalogue.status).toBe(200);
      expect(catalogue.body.errors).toBeUndefined();
    }
    await post(graph.url, storefront('ProductPage'), { id: '1' }, STOREFRONT);
    // A malformed client name is served as usual and recorded without a client.
    const odd = await post(
      graph.url,
      storefront('ProductPage'),
      { id: '2' },
      { 'apollographql-client-name': 'bad\tname' },
    );
    expect(odd.body.errors).toBeUndefined();
    // An operation whose execution errs (a forged cursor) is counted with its error.
    await post(graph.url, storefront('Catalogue'), { first: 2, after: 'forged' }, STOREFRONT);
    await graph.gateway.flushUsage?.();

    const operations = await sql<{ name: string; type: string; signature: string }[]>`
      select name, type, signature from gateway_usage.operations order by name`;
    expect(operations.map((o) => o.name)).toEqual(['Catalogue', 'ProductPage']);
    expect(operations[0]?.signature).not.toContain('forged');
    const usageRows = await sql<
      {
        name: string;
        client_name: string;
        client_version: string;
        requests: string;
        errors: string;
        latency_ms: string[];
      }[]
    >`
      select o.name, u.client_name, u.client_version, u.requests, u.errors, u.latency_ms
      from gateway_usage.operation_usage u join gateway_usage.operations o using (hash)
      order by o.name, u.client_name`;
    expect(
      usageRows.map((r) => [r.name, r.client_name, r.client_version, Number(r.requests), Number(r.errors)]),
    ).toEqual([
      ['Catalogue', 'trellis-storefront', '1.2.0', 4, 1],
      ['ProductPage', '', '', 1, 0],
      ['ProductPage', 'trellis-storefront', '1.2.0', 1, 0],
    ]);
    expect(usageRows[0]?.latency_ms.map(Number).reduce((a, b) => a + b)).toBe(4);
    const coordinates = (
      await sql<{ coordinate: string }[]>`
        select c.coordinate from gateway_usage.operation_coordinates c join gateway_usage.operations o using (hash)
        where o.name = 'Catalogue'`
    ).map((r) => r.coordinate);
    // Fields reached through the ProductCard fragment, arguments and input values.
    expect(coordinates).toEqual(
      expect.arrayContaining([
        'Product.averageRating',
        'Product.inStock',
        'Query.products',
        'Query.products(orderBy:)',
        'ProductOrder.field',
        'ProductOrderField.PRICE',
      ]),
    );
    expect(coordinates).not.toContain('Product.weight');
  });

  it('adds the counts of two replicas flushing the same rows at once', async () => {
    const replica = await startGateway(
      testGatewayConfig({ supergraphPath: graph.supergraphPath, usage: usage(usageDb.url) }),
    );
    try {
      const before = await sql<{ n: string }[]>`
        select coalesce(sum(requests), 0) as n from gateway_usage.operation_usage u
        join gateway_usage.operations o using (hash) where o.name = 'Me'`;
      for (const url of [graph.url, `${replica.url}/graphql`])
        for (let i = 0; i < 5; i++) await post(url, storefront('Me'), {}, STOREFRONT);
      await Promise.all([graph.gateway.flushUsage?.(), replica.flushUsage?.()]);
      const after = await sql<{ n: string }[]>`
        select coalesce(sum(requests), 0) as n from gateway_usage.operation_usage u
        join gateway_usage.operations o using (hash) where o.name = 'Me'`;
      expect(Number(after[0]?.n) - Number(before[0]?.n)).toBe(10);
      expect(await metricValue(replica, 'trellis_gateway_usage_flushes_total', { result: 'failed' })).toBe(0);
    } finally {
      await replica.stop();
    }
  });

  it('serves every request when the usage database is down, counting the dropped buckets', async () => {
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        usage: usage('postgres://postgres@127.0.0.1:1/nowhere'),
      }),
    );
    try {
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        const answer = await post(`${gateway.url}/graphql`, storefront('Me'), {}, STOREFRONT);
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
        expect(performance.now() - started).toBeLessThan(2000);
      }
      await gateway.flushUsage?.();
      expect(await metricValue(gateway, 'trellis_gateway_usage_flushes_total', { result: 'failed' })).toBe(1);
      expect(await metricValue(gateway, 'trellis_gateway_usage_dropped_buckets_total')).toBe(1);
      expect(await metricValue(gateway, 'trellis_gateway_usage_dropped_requests_total', { reason: 'flush' })).toBe(4);
      // The next requests are still answered, and a later flush tries again.
      expect((await post(`${gateway.url}/graphql`, storefront('Me'), {})).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('drops batches it may not write (a read-only role), requests unaffected', async () => {
    const role = `usage_ro_${usageDb.name.slice(-10)}`;
    await sql.unsafe(`create role "${role}" login`);
    await sql.unsafe(`grant usage on schema gateway_usage, gateway_usage_migrations to "${role}"`);
    await sql.unsafe(`grant select on all tables in schema gateway_usage, gateway_usage_migrations to "${role}"`);
    const url = new URL(withDatabase(usageDb.url, usageDb.name));
    url.username = role;
    url.password = '';
    const gateway = await startGateway(
      testGatewayConfig({ supergraphPath: graph.supergraphPath, usage: usage(url.toString()) }),
    );
    try {
      for (let i = 0; i < 3; i++)
        expect((await post(`${gateway.url}/graphql`, storefront('Me'), {}, STOREFRONT)).status).toBe(200);
      await gateway.flushUsage?.();
      expect(await metricValue(gateway, 'trellis_gateway_usage_dropped_requests_total', { reason: 'flush' })).toBe(3);
      expect(await metricValue(gateway, 'trellis_gateway_usage_dropped_buckets_total')).toBe(1);
    } finally {
      await gateway.stop();
      await sql.unsafe(`drop owned by "${role}"`);
      await sql.unsafe(`drop role "${role}"`);
    }
  });

  it('keeps a bounded number of distinct operations in memory and counts the excess', async () => {
    const gateway = await startGateway(
      testGatewayConfig({ supergraphPath: graph.supergraphPath, usage: { ...usage(usageDb.url)!, maxEntries: 5 } }),
    );
    try {
      for (let i = 0; i < 30; i++) {
        const answer = await post(`${gateway.url}/graphql`, `query Distinct${i} { product(id: "1") { id } }`, {});
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
      }
      await gateway.flushUsage?.();
      expect(await metricValue(gateway, 'trellis_gateway_usage_dropped_requests_total', { reason: 'limit' })).toBe(25);
      const [stored] = await sql<{ n: string }[]>`
        select count(*) as n from gateway_usage.operations where name like 'Distinct%'`;
      expect(Number(stored?.n)).toBe(5);
    } finally {
      await gateway.stop();
    }
  });

  it('counts the response cache hits of an operation it has executed, with their client', async () => {
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        responseCache: { enabled: true, timeoutMs: 50 },
        usage: usage(usageDb.url),
      }),
    );
    try {
      const query = 'query CachedCatalogue { products(first: 3) { edges { node { id name } } } }';
      const send = () =>
        fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...STOREFRONT },
          body: JSON.stringify({ query }),
        });
      expect((await send()).headers.get('x-cache')).toBe('MISS');
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 3; i++) expect((await send()).headers.get('x-cache')).toBe('HIT');
      await gateway.flushUsage?.();
      const rows = await sql<{ requests: string; client_name: string }[]>`
        select u.requests, u.client_name from gateway_usage.operation_usage u
        join gateway_usage.operations o using (hash) where o.name = 'CachedCatalogue'`;
      expect(rows.map((r) => [r.client_name, Number(r.requests)])).toEqual([['trellis-storefront', 4]]);
    } finally {
      await gateway.stop();
    }
  });
});
