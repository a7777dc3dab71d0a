// The cache store on a private Redis (started on a free port, killed and restarted here —
// never the shared one) and in memory: entries and their tags expire with their TTL, purge
// deletes exactly the tagged entries, and a Redis that dies mid-test is a miss (bounded, no
// hang) until it returns, when caching resumes.
import { type PrivateRedis, startPrivateRedis } from '@trellis/testing/redis-server';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheStore, createCacheStore } from './index.ts';
import { createRedisPublisher } from './invalidation.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A busy process: blocks the event loop for `ms` in the check phase (after I/O was polled). */
const blockLoop = (ms: number) =>
  new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = performance.now() + ms;
      while (performance.now() < until) {}
      resolve();
    }),
  );

describe('cache store', () => {
  let redis: PrivateRedis;
  let port: number;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    port = redis.port;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  for (const kind of ['memory', 'redis'] as const) {
    it(`${kind}: entries and tags expire with their TTL; purge drops only the tagged entries`, async () => {
      const store = createCacheStore({
        ...(kind === 'redis' ? { redisUrl: redis.url } : {}),
        namespace: `ttl-${Date.now()}`,
        timeoutMs: 500,
      });
      try {
        const since = Date.now();
        await store.put('short', 'a', { ttl: 1, tags: ['Product:1'], notBefore: since });
        await store.put('long', 'b', { ttl: 60, tags: ['Product:2', 'Product'], notBefore: since });
        await store.put('other', 'c', { ttl: 60, tags: ['Product:3', 'Product'], notBefore: since });
        expect(await store.cache.get('short')).toBe('a');
        await sleep(1200);
        expect(await store.cache.get('short')).toBeUndefined();
        expect(await store.purge(['Product:1'])).toBe(0);
        expect(await store.purge(['Product:2'])).toBe(1);
        expect(await store.cache.get('long')).toBeUndefined();
        expect(await store.cache.get('other')).toBe('c');
        expect(await store.purge(['Product'])).toBe(1);
        expect(await store.cache.get('other')).toBeUndefined();
      } finally {
        await store.close();
      }
    });
  }

  for (const kind of ['memory', 'redis'] as const) {
    it(`${kind}: peek reads the start of an entry (all of a short one), nothing once it is gone`, async () => {
      const store = createCacheStore({
        ...(kind === 'redis' ? { redisUrl: redis.url } : {}),
        namespace: `peek-${Date.now()}`,
        timeoutMs: 500,
      });
      try {
        const long = `{"head":1}\n${'é'.repeat(50_000)}`;
        await store.put('long', long, { ttl: 60, tags: ['Product:9'], notBefore: Date.now() });
        await store.cache.set('short', 'a\nb', { ttl: 60 });
        const head = await store.peek('long', 64);
        expect(head?.startsWith('{"head":1}\n')).toBe(true);
        if (kind === 'redis') expect(head?.length).toBeLessThan(200);
        expect(await store.peek('short', 64)).toBe('a\nb');
        expect(await store.peek('missing', 64)).toBeUndefined();
        await store.purge(['Product:9']);
        expect(await store.peek('long', 64)).toBeUndefined();
        expect(await store.cache.get('short')).toBe('a\nb');
      } finally {
        await store.close();
      }
    });
  }

  it('redis: a reply already waiting when a late timer fires is a hit, not a timeout (event-loop lag)', async () => {
    const registry = new Registry();
    const store = createCacheStore({
      redisUrl: redis.url,
      namespace: `lag-${Date.now()}`,
      timeoutMs: 50,
      failuresToOpen: 1,
      registry,
    });
    try {
      await store.cache.set('entry', 'value', { ttl: 60 });
      // Redis holds its replies until the commands are surely on the wire (the client writes
      // them from a later loop phase; without this the block below could start before they
      // went out, and then no reply could be waiting).
      redis.pause();
      const reads = [1, 2, 3].map(() => store.cache.get('entry'));
      try {
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        await sleep(10);
      } finally {
        redis.resume();
      }
      // A busy process: the loop is blocked past the timeout (in the check phase, so the
      // replies arrive while it is blocked and the late timer fires before the next poll
      // reads them).
      await blockLoop(300);
      expect(await Promise.all(reads)).toEqual(['value', 'value', 'value']);
      const calls = (await registry.getSingleMetric('trellis_cache_calls_total')?.get())?.values ?? [];
      expect(calls.filter((v) => v.labels.outcome !== 'ok')).toEqual([]);
      expect(store.circuitOpen()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('redis: timeouts the process caused (late timers) or one stall caused (a burst) do not open the circuit; a hung store does', async () => {
    const store = createCacheStore({
      redisUrl: redis.url,
      namespace: `stall-${Date.now()}`,
      timeoutMs: 50,
      failuresToOpen: 2,
    });
    try {
      await store.cache.set('k', 'v', { ttl: 60 });
      expect(await store.cache.get('k')).toBe('v');
      redis.pause(); // hung: connected, never answering
      for (let i = 0; i < 3; i++) {
        const read = store.cache.get('k');
        // Busy past the bound: the 50 ms timer fires ~100 ms late.
        await blockLoop(150);
        expect(await read).toBeUndefined();
      }
      expect(store.circuitOpen()).toBe(false);
      // One stall times out every call in flight at once: that is one failure, not twenty.
      const burst = await Promise.all(Array.from({ length: 20 }, () => store.cache.get('k')));
      expect(burst.every((value) => value === undefined)).toBe(true);
      expect(store.circuitOpen()).toBe(false);
      // A call sent after that failure fails too: the store is down, the circuit opens.
      const started = performance.now();
      expect(await store.cache.get('k')).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(500);
      expect(store.circuitOpen()).toBe(true);
    } finally {
      redis.resume();
      await store.close();
    }
  });

  it('redis: half-open sends one trial call; every other call skips the store at once', async () => {
    const registry = new Registry();
    const store = createCacheStore({
      redisUrl: redis.url,
      namespace: `trial-${Date.now()}`,
      timeoutMs: 50,
      failuresToOpen: 1,
      openMs: 300,
      registry,
    });
    try {
      await store.cache.set('k', 'v', { ttl: 60 });
      redis.pause();
      expect(await store.cache.get('k')).toBeUndefined();
      expect(store.circuitOpen()).toBe(true);
      await sleep(350);
      expect(store.circuitOpen()).toBe(false);
      // Half-open: 20 calls at once. One trial waits its timeout; the 19 others do not wait.
      const timed = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const started = performance.now();
          await store.cache.get('k');
          return performance.now() - started;
        }),
      );
      expect(timed.filter((ms) => ms >= 40)).toHaveLength(1);
      const calls = (await registry.getSingleMetric('trellis_cache_calls_total')?.get())?.values ?? [];
      expect(calls.find((v) => v.labels.outcome === 'skipped')?.value).toBe(19);
      // The failed trial opened it again at once.
      expect(store.circuitOpen()).toBe(true);
    } finally {
      redis.resume();
      await store.close();
    }
  });

  it('redis: a purge leaves a marker; an answer begun before it is not stored after it (by a relay too)', async () => {
    const namespace = `marker-${Date.now()}`;
    const store = createCacheStore({ redisUrl: redis.url, namespace, timeoutMs: 500 });
    const publisher = createRedisPublisher({ url: redis.url, namespace });
    try {
      const began = Date.now();
      expect(await store.put('a', 'old', { ttl: 60, tags: ['Product:1'], notBefore: began })).toBe(true);
      expect(await store.purge(['Product:1'])).toBe(1);
      // The old answer's write arrives late (a hung socket): refused.
      expect(await store.put('a', 'old', { ttl: 60, tags: ['Product:1'], notBefore: began })).toBe(false);
      expect(await store.cache.get('a')).toBeUndefined();
      // Other tags are not held back; an answer begun after the purge is stored.
      expect(await store.put('b', 'x', { ttl: 60, tags: ['Product:2'], notBefore: began })).toBe(true);
      await sleep(5);
      expect(await store.put('a', 'new', { ttl: 60, tags: ['Product:1'], notBefore: Date.now() })).toBe(true);
      // A relay's publish applies the invalidation to the store itself, with no gateway listening.
      const before = Date.now() - 1;
      await publisher.publish({ entities: [{ typename: 'Product', id: '1' }] });
      expect(await store.cache.get('a')).toBeUndefined();
      expect(await store.cache.get('b')).toBe('x');
      expect(await store.put('a', 'stale', { ttl: 60, tags: ['Product:1'], notBefore: before })).toBe(false);
    } finally {
      await publisher.close();
      await store.close();
    }
  });

  it('redis: killed mid-test is a miss — bounded, no hang — and caching resumes when it returns', async () => {
    const store: CacheStore = createCacheStore({
      redisUrl: redis.url,
      namespace: `outage-${Date.now()}`,
      timeoutMs: 50,
      openMs: 500,
    });
    try {
      // The store connects when created; its first call does not pay the connection.
      await sleep(300);
      await store.cache.set('k', 'v', { ttl: 60 });
      expect(await store.cache.get('k')).toBe('v');
      await redis.stop();
      const started = performance.now();
      for (let i = 0; i < 10; i++) {
        expect(await store.cache.get('k')).toBeUndefined();
        await store.cache.set('k2', 'v2', { ttl: 60 });
        // Not applied: the caller learns it (a relay keeps its rows and retries).
        expect(await store.purge(['x'])).toBeUndefined();
      }
      // 30 calls: at most a few pay the 50 ms timeout before the circuit opens.
      expect(performance.now() - started).toBeLessThan(1000);
      expect(store.circuitOpen()).toBe(true);
      await redis.start();
      let resumed = false;
      for (let i = 0; i < 50 && !resumed; i++) {
        await sleep(100);
        await store.cache.set('k3', 'v3', { ttl: 60 });
        resumed = (await store.cache.get('k3')) === 'v3';
      }
      expect(resumed).toBe(true);
    } finally {
      await store.close();
    }
  }, 20_000);
});
