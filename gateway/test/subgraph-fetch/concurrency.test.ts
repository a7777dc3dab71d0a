// The per-subgraph concurrency limit (subgraph-fetch/concurrency.ts): at most maxInFlight at once,
// then a short queue, then refusals (queue full at once, queue timeout after queueMs), counted.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createSubgraphConcurrency, SubgraphBusyError } from '../../src/subgraph-fetch/concurrency.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('subgraph concurrency limit', () => {
  it('runs maxInFlight at once, queues briefly, then fails fast; counts each refusal', async () => {
    const registry = new Registry();
    const limiter = createSubgraphConcurrency('products', { maxInFlight: 2, queueMs: 100, maxQueue: 2 }, registry);
    let running = 0;
    let peak = 0;
    const fetch = (ms: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(ms);
      running--;
      return ms;
    };
    // Two in flight (300 ms), two queued, the fifth refused at once.
    const slow = [limiter.run(fetch(300)), limiter.run(fetch(300))];
    const queued = [limiter.run(fetch(10)), limiter.run(fetch(10))];
    await sleep(5);
    expect([limiter.inFlight, limiter.queued]).toEqual([2, 2]);
    const started = performance.now();
    await expect(limiter.run(fetch(10))).rejects.toMatchObject({ reason: 'queue_full' });
    expect(performance.now() - started).toBeLessThan(20);
    // The queued ones gave up after 100 ms (the slow ones hold the slots for 300).
    for (const q of queued) await expect(q).rejects.toBeInstanceOf(SubgraphBusyError);
    expect(performance.now() - started).toBeLessThan(250);
    expect(await Promise.all(slow)).toEqual([300, 300]);
    expect(peak).toBe(2);
    // Abandoned entries free their turn at once: the limiter is usable again.
    expect(await limiter.run(fetch(1))).toBe(1);
    const rejected = (await registry.getSingleMetric('trellis_gateway_subgraph_concurrency_rejected_total')?.get())
      ?.values;
    expect(rejected?.find((v) => v.labels.reason === 'queue_full')?.value).toBe(1);
    expect(rejected?.find((v) => v.labels.reason === 'queue_timeout')?.value).toBe(2);
    const inFlight = (await registry.getSingleMetric('trellis_gateway_subgraph_in_flight')?.get())?.values;
    expect(inFlight?.find((v) => v.labels.subgraph === 'products')?.value).toBe(0);
  });

  it('a queued fetch that gets a slot in time runs', async () => {
    const limiter = createSubgraphConcurrency('reviews', { maxInFlight: 1, queueMs: 200 }, new Registry());
    const first = limiter.run(() => sleep(50).then(() => 'first'));
    const second = limiter.run(async () => 'second');
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
  });
});
