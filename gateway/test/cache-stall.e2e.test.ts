// No stale resurrection after a Redis stall (issue 16): cache a product's answer, hang the
// cache's Redis (SIGSTOP), update the product, let Redis answer again — no read after the
// update ever returns the old value, during the stall, at its end, or once caching resumes.
// (The invalidation used to reach the gateway while its cache circuit was still open and be
// skipped, while the outbox counted it published: the old entry came back as a HIT.)
import { randomBytes } from 'node:crypto';
import { graphql } from '@trellis/testing';
import { type PrivateRedis, startPrivateRedis } from '@trellis/testing/redis-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../../tools/src/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a write during a Redis stall', () => {
  let redis: PrivateRedis;
  let graph: TestGraph;
  let admin: Record<string, string>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    graph = await startGraph(inject('databaseUrl'), {
      responseCache: {
        enabled: true,
        timeoutMs: 50,
        redisUrl: redis.url,
        namespace: `stall-${randomBytes(4).toString('hex')}`,
      },
      invalidation: true,
    });
    admin = { authorization: `Bearer ${await tokenFor(1, ['admin'])}` };
  });
  afterAll(async () => {
    await graph?.stop();
    await redis?.stop();
  });

  const read = 'query StallRead { product(id: "7") { id name } }';
  const nameOf = async () => {
    const response = await graphql<{ product: { name: string } }>(graph.url, read);
    return { name: response.body.data?.product.name, cache: response.headers.get('x-cache') };
  };

  it('is never undone by the entry cached before it', async () => {
    await nameOf();
    await sleep(150);
    const cached = await nameOf();
    expect(cached.cache).toBe('HIT');
    const old = cached.name;

    redis.pause();
    const renamed = `Renamed during a stall ${Date.now()}`;
    let resumed = false;
    try {
      // Reads while hung: misses (bounded), and they open the cache circuit.
      for (let i = 0; i < 5; i++) expect((await nameOf()).name).toBe(old);
      const update = await graphql(
        graph.url,
        'mutation($name: String!) { updateProduct(input: { id: "7", name: $name }) { product { name } } }',
        { name: renamed },
        admin,
      );
      expect((update.body.data as any).updateProduct.product.name).toBe(renamed);
      const seen: string[] = [];
      const until = performance.now() + 1500;
      while (performance.now() < until) seen.push(String((await nameOf()).name));
      redis.resume();
      resumed = true;
      // Past the circuit's reopening (5 s) and the relay's retries: caching resumes, never with the old name.
      const after = performance.now() + 9000;
      let hits = 0;
      while (performance.now() < after) {
        const { name, cache } = await nameOf();
        seen.push(String(name));
        if (cache === 'HIT') hits++;
        await sleep(20);
      }
      expect(seen.filter((name) => name !== renamed)).toEqual([]);
      expect(hits).toBeGreaterThan(0);
    } finally {
      if (!resumed) redis.resume();
    }
  }, 30_000);
});
