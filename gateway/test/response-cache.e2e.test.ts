// The gateway's response cache, on real Redis and in memory: hits cost no subgraph work,
// private answers never cross users, errors and mutations are never stored, clients can
// bypass, and a Redis outage is a miss, not an error.
import { graphql } from '@trellis/testing';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../../tools/src/harness.ts';

const REDIS = { host: '127.0.0.1', port: 6379 };

async function subgraphWork(graph: TestGraph) {
  const sql = Object.values(graph.subgraphs).reduce((sum, s) => sum + s.statements.count, 0);
  const metric = await graph.gateway.registry.getSingleMetric('trellis_gateway_subgraph_fetches_total')?.get();
  return sql + (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

for (const store of ['memory', 'redis'] as const) {
  describe(`response cache (${store})`, () => {
    let graph: TestGraph;
    let proxy: FaultProxy | undefined;
    beforeAll(async () => {
      // Redis sits behind a fault proxy so the outage test can cut it off.
      proxy = store === 'redis' ? await startFaultProxy({ target: REDIS }) : undefined;
      const redisUrl = proxy ? `redis://127.0.0.1:${proxy.port}` : undefined;
      graph = await startGraph(inject('databaseUrl'), { responseCache: { enabled: true, redisUrl, timeoutMs: 50 } });
    });
    afterAll(async () => {
      await graph?.stop();
      await proxy?.close();
    });

    const send = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      graphql(graph.url, query, variables, headers);
    // A distinct document per store and run, so Redis entries from other runs never interfere.
    const tag = `${store}${Date.now()}`;

    it('serves a repeated public query from the cache with zero subgraph work', async () => {
      const query = `query Cat_${tag} { products(first: 2) { edges { node { id name } } } }`;
      const first = await send(query);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(first.headers.get('age')).toBe('0');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the store is written in the background
      const before = await subgraphWork(graph);
      const second = await send(query);
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
      expect(second.headers.get('cache-control')).toBe('max-age=60, public');
      expect(second.body).toEqual(first.body);
      expect(await subgraphWork(graph)).toBe(before);
    });

    it('keys on variables: same document, different variables, different entries', async () => {
      const query = `query One_${tag}($id: ID!) { product(id: $id) { id name } }`;
      await send(query, { id: '1' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const other = await send(query, { id: '2' });
      expect(other.headers.get('x-cache')).toBe('MISS');
      expect((other.body.data as any).product.id).toBe('2');
      const again = await send(query, { id: '1' });
      expect(again.headers.get('x-cache')).toBe('HIT');
      expect((again.body.data as any).product.id).toBe('1');
    });

    it("never serves user A's private answer to user B, with identical query and variables", async () => {
      const query = `query Me_${tag} { me { id email } }`;
      const a = { authorization: `Bearer ${await tokenFor(11)}` };
      const b = { authorization: `Bearer ${await tokenFor(12)}` };
      expect((await send(query, {}, a)).headers.get('x-cache')).toBe('MISS');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const aAgain = await send(query, {}, a);
      expect(aAgain.headers.get('x-cache')).toBe('HIT');
      expect((aAgain.body.data as any).me.id).toBe('11');
      const bFirst = await send(query, {}, b);
      expect(bFirst.headers.get('x-cache')).toBe('MISS');
      expect((bFirst.body.data as any).me).toMatchObject({ id: '12', email: expect.stringContaining('12@') });
      // Anonymous: a private answer is never stored.
      await send(query);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await send(query)).headers.get('x-cache')).toBe('MISS');
    });

    it('never stores errors or mutations, and honours a client no-cache', async () => {
      const failing = `query Bad_${tag} { products(first: 101) { totalCount } }`;
      await send(failing);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await send(failing)).headers.get('x-cache')).not.toBe('HIT');
      const mutation = await send(
        'mutation { addReview(input: { productId: "1", rating: 5, body: "x" }) { userErrors { code } } }',
        {},
        {
          authorization: `Bearer ${await tokenFor(2)}`,
        },
      );
      expect(mutation.headers.get('x-cache')).toBeNull();
      const query = `query Fresh_${tag} { product(id: "3") { name } }`;
      await send(query);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await send(query, {}, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('MISS');
      // A client cannot force private data into the shared cache with its own header.
      const forced = await send(`query Force_${tag} { me { id } }`, {}, { 'cache-control': 'public, max-age=600' });
      expect(forced.headers.get('cache-control')).not.toMatch(/public/);
    });

    if (store === 'redis') {
      it('treats a Redis outage as a miss — no errors, no hang — and caches again when Redis returns', async () => {
        const query = `query Outage_${tag} { product(id: "4") { name } }`;
        proxy!.setMode('blackhole');
        const started = performance.now();
        const circuitOpen = async () =>
          (await graph.gateway.registry.getSingleMetric('trellis_cache_circuit_open')?.get())?.values[0]?.value;
        // At least five requests, and on until the circuit opens: after the first failure one
        // probe goes out at a time (others skip Redis), so opening takes three probes' bounds
        // of wall time rather than a number of requests.
        for (let i = 0; i < 5 || ((await circuitOpen()) !== 1 && performance.now() - started < 3000); i++) {
          const { status, body, headers } = await send(query);
          expect(status).toBe(200);
          expect(body.errors).toBeUndefined();
          expect(headers.get('x-cache')).toBe('MISS');
        }
        expect(performance.now() - started).toBeLessThan(3000);
        expect(await circuitOpen()).toBe(1);
        proxy!.setMode('pass');
        await new Promise((resolve) => setTimeout(resolve, 5200)); // the circuit half-opens
        let hit = false;
        for (let i = 0; i < 10 && !hit; i++) {
          hit = (await send(query)).headers.get('x-cache') === 'HIT';
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(hit).toBe(true);
      }, 20_000);
    }
  });
}
