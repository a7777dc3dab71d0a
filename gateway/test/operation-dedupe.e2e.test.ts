// Inbound in-flight deduplication (operation-dedupe.ts): identical queries in flight at once
// share one execution; viewers, variables, mutations and writes in between keep them apart.
// A real gateway in front of a products stub that holds query answers until released.
import { join } from 'node:path';
import { graphql } from '@trellis/testing';
import { describe, expect, it, vi } from 'vitest';
import { testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { ROOT } from '../../tools/src/workspace.ts';
import { type GatewayConfig, gatewayConfig } from '../src/env.ts';
import { startGateway } from '../src/index.ts';
import { fetches, metricValue, startServer, type TestServer, until } from './subgraph-fetch/harness.ts';

const PRODUCT = { data: { product: { id: '1', name: 'Widget' } } };
const QUERY = 'query Dedup($id: ID!) { product(id: $id) { id name } }';
const MUTATION = 'mutation Rename { updateProduct(input: { id: "1", name: "Gadget" }) { userErrors { message } } }';

interface Stub {
  server: TestServer;
  /** Query bodies received, in order. */
  queries: string[];
  release(): void;
}

/**
 * A products subgraph that answers mutations at once and holds every query until released;
 * `answer` builds a query's response (status, headers, body) from its request body.
 */
async function heldProducts(
  answer: (body: string) => { status?: number; headers?: Record<string, string>; body: unknown } = () => ({
    body: PRODUCT,
  }),
): Promise<Stub> {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const queries: string[] = [];
  const server: TestServer = await startServer((_req, res, index) => {
    const text = JSON.stringify(server.bodies[index]);
    if (text.includes('mutation')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: { updateProduct: { userErrors: [] } } }));
      return;
    }
    queries.push(text);
    const { status = 200, headers = {}, body } = answer(text);
    void held.then(() =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body)),
    );
  });
  return { server, queries, release: () => release() };
}

async function gatewayFor(stub: Stub, overrides: Partial<GatewayConfig> = {}) {
  return startGateway(
    testGatewayConfig({
      supergraphPath: join(ROOT, 'supergraph.graphql'),
      subgraphUrls: { products: stub.server.url },
      // Outbound deduplication off: every execution that runs shows as a subgraph fetch.
      subgraphDedup: false,
      ...overrides,
    }),
  );
}

const coalesced = (gateway: Awaited<ReturnType<typeof startGateway>>) =>
  metricValue(gateway.registry, 'trellis_gateway_operations_coalesced_total', {});

/** Waits until the stub has `count` queries and a moment more for late joiners to arrive. */
async function settleAt(stub: Stub, count: number): Promise<void> {
  await until(() => stub.queries.length >= count, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('OPERATION_DEDUP', () => {
  it('is on by default; off and on are the only values', () => {
    expect(gatewayConfig([], {}).operationDedup).toBe(true);
    expect(gatewayConfig([], { OPERATION_DEDUP: 'on' }).operationDedup).toBe(true);
    expect(gatewayConfig([], { OPERATION_DEDUP: 'off' }).operationDedup).toBe(false);
    // Anything else is refused at start, naming the variable.
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => gatewayConfig([], { OPERATION_DEDUP: 'false' })).toThrow('exit 1');
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/OPERATION_DEDUP.*"on"\|"off"/);
    exit.mockRestore();
    stderr.mockRestore();
  });

  it('runs identical concurrent queries once, each client getting the whole answer and the same cache policy', async () => {
    const stub = await heldProducts(() => ({ headers: { 'cache-control': 'max-age=30, public' }, body: PRODUCT }));
    const gateway = await gatewayFor(stub);
    try {
      const url = `${gateway.url}/graphql`;
      const answers = Promise.all(Array.from({ length: 6 }, () => graphql(url, QUERY, { id: '1' })));
      await settleAt(stub, 1);
      stub.release();
      const responses = await answers;
      expect(stub.queries).toHaveLength(1);
      expect(await coalesced(gateway)).toBe(5);
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.body).toEqual(PRODUCT);
        // The subgraph's hint reached every client's response, not only the leader's.
        expect(response.headers.get('cache-control')).toBe('max-age=30, public');
      }
      // Nothing is kept once the execution settled: the next query runs its own.
      await graphql(url, QUERY, { id: '1' });
      expect(stub.queries).toHaveLength(2);
    } finally {
      stub.release();
      await gateway.stop();
    }
  });

  it('shares a failure the same way: every client gets the typed error', async () => {
    const stub = await heldProducts(() => ({ status: 503, body: { errors: [{ message: 'down' }] } }));
    const gateway = await gatewayFor(stub, { subgraphDedup: false });
    try {
      const url = `${gateway.url}/graphql`;
      const answers = Promise.all(Array.from({ length: 4 }, () => graphql(url, QUERY, { id: '1' })));
      await settleAt(stub, 1);
      stub.release();
      const responses = await answers;
      const codes = responses.map((response) => response.body.errors?.[0]?.extensions?.code);
      expect(new Set(codes)).toEqual(new Set(['SUBGRAPH_UNAVAILABLE']));
      // One execution; its retries (5xx on a query) are the only extra fetches.
      expect(await coalesced(gateway)).toBe(3);
      expect(await fetches(gateway.registry, 'unavailable', 'products')).toBe(1);
    } finally {
      stub.release();
      await gateway.stop();
    }
  });

  it('never shares between viewers or variables', async () => {
    const stub = await heldProducts();
    const gateway = await gatewayFor(stub);
    try {
      const url = `${gateway.url}/graphql`;
      const [one, two] = await Promise.all([tokenFor(1), tokenFor(2)]);
      const answers = Promise.all([
        graphql(url, QUERY, { id: '1' }),
        graphql(url, QUERY, { id: '1' }),
        graphql(url, QUERY, { id: '2' }),
        graphql(url, QUERY, { id: '1' }, { authorization: `Bearer ${one}` }),
        graphql(url, QUERY, { id: '1' }, { authorization: `Bearer ${one}` }),
        graphql(url, QUERY, { id: '1' }, { authorization: `Bearer ${two}` }),
      ]);
      await settleAt(stub, 4);
      stub.release();
      for (const response of await answers) expect(response.body).toEqual(PRODUCT);
      // anonymous id 1 (twice), anonymous id 2, user 1 (twice), user 2.
      expect(stub.queries).toHaveLength(4);
      expect(await coalesced(gateway)).toBe(2);
    } finally {
      stub.release();
      await gateway.stop();
    }
  });

  it('never lets a query join an execution that began before a completed mutation (read-your-writes)', async () => {
    const stub = await heldProducts();
    const gateway = await gatewayFor(stub);
    try {
      const url = `${gateway.url}/graphql`;
      const admin = { authorization: `Bearer ${await tokenFor(9, ['admin'])}` };
      const before = graphql(url, QUERY, { id: '1' }, admin);
      await settleAt(stub, 1);
      // The write completes while the first read is still in flight…
      const write = await graphql(url, MUTATION, undefined, admin);
      expect(write.body.errors).toBeUndefined();
      // …so the same read sent after it runs on its own, and so do mutations themselves.
      const after = graphql(url, QUERY, { id: '1' }, admin);
      await settleAt(stub, 2);
      stub.release();
      for (const response of await Promise.all([before, after])) expect(response.body).toEqual(PRODUCT);
      expect(stub.queries).toHaveLength(2);
      expect(await coalesced(gateway)).toBe(0);
    } finally {
      stub.release();
      await gateway.stop();
    }
  });

  it('runs every query when off', async () => {
    const stub = await heldProducts();
    const gateway = await gatewayFor(stub, {
      operationDedup: gatewayConfig([], { OPERATION_DEDUP: 'off' }).operationDedup,
    });
    try {
      const url = `${gateway.url}/graphql`;
      const answers = Promise.all(Array.from({ length: 3 }, () => graphql(url, QUERY, { id: '1' })));
      await settleAt(stub, 3);
      stub.release();
      for (const response of await answers) expect(response.body).toEqual(PRODUCT);
      expect(stub.queries).toHaveLength(3);
      expect(await coalesced(gateway)).toBe(0);
    } finally {
      stub.release();
      await gateway.stop();
    }
  });
});
