// Write-driven invalidation of the gateway's response cache, on real Redis and in memory:
// a committed mutation or job (via each subgraph's outbox relay) drops every cached response
// holding the entity within 1 s while unrelated entries stay cached; two gateways sharing one Redis
// both drop it; the admin purge is protected and validates its input; hostile input never
// yields a wrong or leaked answer.
import { randomBytes } from 'node:crypto';
import { startGateway } from '@trellis/gateway';
import { graphql, until } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, startGraphWorker, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `query` until it is not a HIT; returns that response and the time it took. */
async function untilMiss(url: string, query: string, headers: Record<string, string> = {}, limitMs = 3000) {
  const started = performance.now();
  for (;;) {
    const response = await graphql(url, query, {}, headers);
    const elapsed = performance.now() - started;
    if (response.headers.get('x-cache') !== 'HIT' || elapsed > limitMs) return { response, elapsed };
    await sleep(25);
  }
}

for (const store of ['memory', 'redis'] as const) {
  describe(`cache invalidation (${store})`, () => {
    let graph: TestGraph;
    const namespace = `test-inval-${randomBytes(4).toString('hex')}`;
    const responseCache = {
      enabled: true,
      timeoutMs: 200,
      namespace,
      ...(store === 'redis' ? { redisUrl: REDIS_URL } : {}),
    };
    let admin: Record<string, string>;
    beforeAll(async () => {
      graph = await startGraph(inject('databaseUrl'), { responseCache, invalidation: true });
      admin = { authorization: `Bearer ${await tokenFor(1, ['admin'])}` };
    });
    afterAll(async () => {
      await graph?.stop();
    });
    const tag = `${store}${Date.now()}`;
    const send = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      graphql(graph.url, query, variables, headers);
    /** Sends each query twice: the second must be a HIT. */
    async function warm(...queries: string[]) {
      for (const query of queries) await send(query);
      await sleep(150); // entries are written in the background
      for (const query of queries) expect((await send(query)).headers.get('x-cache'), query).toBe('HIT');
    }

    it('a product update drops every cached response holding it, within 1 s; unrelated ones stay', async () => {
      const name = `query Name_${tag} { product(id: "5") { id name } }`;
      const stock = `query Stock_${tag} { product(id: "5") { name inStock } }`;
      const other = `query Other_${tag} { product(id: "6") { id name } }`;
      await warm(name, stock, other);
      const renamed = `Renamed ${tag}`;
      const mutation = await send(
        'mutation($name: String!) { updateProduct(input: { id: "5", name: $name }) { product { name } userErrors { code } } }',
        { name: renamed },
        admin,
      );
      expect((mutation.body.data as any).updateProduct).toEqual({ product: { name: renamed }, userErrors: [] });
      const first = await untilMiss(graph.url, name);
      expect(first.elapsed).toBeLessThan(1000);
      expect((first.response.body.data as any).product.name).toBe(renamed);
      const second = await send(stock);
      expect(second.headers.get('x-cache')).toBe('MISS');
      expect((second.body.data as any).product.name).toBe(renamed);
      expect((await send(other)).headers.get('x-cache')).toBe('HIT');
      const purged = await graph.gateway.registry.getSingleMetric('trellis_gateway_cache_purged_entries_total')?.get();
      expect(purged?.values[0]?.value).toBeGreaterThanOrEqual(2);
    });

    it('stock changes (inventory) and new reviews (reviews) invalidate through their own outboxes', async () => {
      const quantity = `query Qty_${tag} { product(id: "8") { quantity } }`;
      const count = `query Count_${tag} { product(id: "9") { reviewCount } }`;
      const list = `query List_${tag} { product(id: "9") {
        reviews(first: 1, orderBy: { field: CREATED_AT, direction: DESC }) { totalCount edges { node { id } } } } }`;
      await warm(quantity, count, list);
      const before = (await send(quantity)).body.data as any;
      const beforeCount = ((await send(count)).body.data as any).product.reviewCount;
      const beforeTotal = ((await send(list)).body.data as any).product.reviews.totalCount;
      await send('mutation { adjustStock(input: { productId: "8", delta: 3 }) { userErrors { code } } }', {}, admin);
      const adjusted = await untilMiss(graph.url, quantity);
      expect(adjusted.elapsed).toBeLessThan(1000);
      expect((adjusted.response.body.data as any).product.quantity).toBe(before.product.quantity + 3);

      // A new review is in the product's review list at once: insertReview's own outbox rows.
      const reviewer = { authorization: `Bearer ${await tokenFor(3)}` };
      const added = await send(
        'mutation { addReview(input: { productId: "9", rating: 4, body: "solid" }) { review { id } userErrors { code } } }',
        {},
        reviewer,
      );
      expect((added.body.data as any).addReview.userErrors).toEqual([]);
      const reviewId = (added.body.data as any).addReview.review.id;
      const relisted = await untilMiss(graph.url, list);
      expect(relisted.elapsed).toBeLessThan(1000);
      expect((relisted.response.body.data as any).product.reviews).toEqual({
        totalCount: beforeTotal + 1,
        edges: [{ node: { id: reviewId } }],
      });
      // The rating aggregates count it only once the enrich-review job has run: until then
      // the product (dropped with the list) is re-read with the old count, and cached again.
      const stale = await send(count);
      expect(stale.headers.get('x-cache')).toBe('MISS');
      expect((stale.body.data as any).product.reviewCount).toBe(beforeCount);
      await warm(count);

      // The reviews worker (its real process) runs the enrich-review job; the job's
      // transaction records the product in the outbox, and the relay drops it again.
      const reviews = graph.subgraphs.reviews!.running.database.sql;
      const worker = await startGraphWorker(graph, 'reviews', { pollIntervalMs: 50 });
      try {
        await until(
          async () =>
            (
              await reviews`select state::text from reviews_jobs.job
                where name = 'enrich-review' and (data->>'reviewId')::bigint = ${Number(reviewId)}`
            )[0]?.state,
          (state) => state === 'completed',
        );
      } finally {
        await worker.stop();
      }
      const recounted = await untilMiss(graph.url, count);
      expect(recounted.elapsed).toBeLessThan(1000);
      expect(recounted.response.headers.get('x-cache')).toBe('MISS');
      expect((recounted.response.body.data as any).product.reviewCount).toBe(beforeCount + 1);
    });

    it('admin purge: by entity and by type, protected, input validated', async () => {
      const purgeUrl = `${graph.gateway.url}/admin/cache/purge`;
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        fetch(purgeUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      const anonymous = await post({ typename: 'Product' });
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const user = await post({ typename: 'Product' }, { authorization: `Bearer ${await tokenFor(4)}` });
      expect(user.status).toBe(403);
      expect(((await user.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
      const forged = await post({ typename: 'Product' }, { authorization: 'Bearer not.a.token' });
      expect(forged.status).toBe(401);
      for (const bad of [{ typename: '1; DROP' }, { entities: [] }, { entities: [{ typename: 'Product' }] }, 'x']) {
        const response = await post(bad, admin);
        expect(response.status, JSON.stringify(bad)).toBe(400);
        expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
      }

      const a = `query PurgeA_${tag} { product(id: "11") { name } }`;
      const b = `query PurgeB_${tag} { product(id: "12") { name } }`;
      await warm(a, b);
      const byEntity = await post({ typename: 'Product', id: '11' }, admin);
      expect(byEntity.status).toBe(200);
      expect(((await byEntity.json()) as any).purged).toBeGreaterThanOrEqual(1);
      expect((await send(a)).headers.get('x-cache')).toBe('MISS');
      expect((await send(b)).headers.get('x-cache')).toBe('HIT');
      const byType = await post({ types: ['Product'] }, admin);
      expect(byType.status).toBe(200);
      expect((await send(b)).headers.get('x-cache')).toBe('MISS');
      const count = await graph.gateway.registry.getSingleMetric('trellis_gateway_cache_invalidations_total')?.get();
      expect(count?.values.find((v) => v.labels.source === 'admin')?.value).toBeGreaterThanOrEqual(2);
    });

    it('hostile input: huge variables and look-alike keys never produce a wrong or leaked answer', async () => {
      const query = `query Huge_${tag}($id: ID!) { product(id: $id) { id name } }`;
      const huge = '9'.repeat(400_000);
      for (let i = 0; i < 2; i++) {
        const response = await send(query, { id: huge });
        expect(response.status).toBe(200);
        expect((response.body.data as any)?.product ?? null).toBeNull();
      }
      // A different value whose JSON merely resembles another key must not hit it.
      await send(query, { id: '13' });
      await sleep(150);
      const lookalike = await send(query, { id: '13", "x": "' });
      expect((lookalike.body.data as any)?.product ?? null).toBeNull();
      // A private answer forced "public" by the client's header stays the user's own.
      const me = `query Me_${tag} { me { id email } }`;
      await send(me, {}, { authorization: `Bearer ${await tokenFor(21)}`, 'cache-control': 'public, max-age=600' });
      await sleep(150);
      const other = await send(me, {}, { authorization: `Bearer ${await tokenFor(22)}` });
      expect((other.body.data as any).me.id).toBe('22');
      expect(other.headers.get('x-cache')).toBe('MISS');
      expect((await send(me)).body.data).toEqual({ me: null });
    });

    if (store === 'redis') {
      it('two gateways sharing one Redis both drop an invalidated entry within 1 s', async () => {
        const second = await startGateway(testGatewayConfig({ supergraphPath: graph.supergraphPath, responseCache }));
        try {
          const url2 = `${second.url}/graphql`;
          const query = `query Shared_${tag} { product(id: "14") { id name } }`;
          await send(query);
          await sleep(150);
          expect((await graphql(url2, query)).headers.get('x-cache')).toBe('HIT');
          expect((await send(query)).headers.get('x-cache')).toBe('HIT');
          await send('mutation { updateProduct(input: { id: "14", price: 42.5 }) { userErrors { code } } }', {}, admin);
          const [one, two] = await Promise.all([untilMiss(graph.url, query), untilMiss(url2, query)]);
          expect(one.elapsed).toBeLessThan(1000);
          expect(two.elapsed).toBeLessThan(1000);
          // Both replicas received the batch on pub/sub.
          const applied = await second.registry.getSingleMetric('trellis_gateway_cache_invalidations_total')?.get();
          expect(applied?.values.find((v) => v.labels.source === 'pubsub')?.value).toBeGreaterThanOrEqual(1);
        } finally {
          await second.stop();
        }
      });
    }
  });
}
