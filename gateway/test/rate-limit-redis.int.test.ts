// The rate limiter's Redis client across a circuit opening (rate-limit.ts): the connection is
// dropped and the same client connects again for the trial — no client (nor limiters) built
// anew per outage, which cost tens of milliseconds of CPU on the request path.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisClient } from '@trellis/cache/redis';
import { createCircuit } from '@trellis/resilience';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../src/rate-limit.ts';

vi.mock('@trellis/cache/redis', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@trellis/cache/redis')>();
  return { ...actual, createRedisClient: vi.fn(actual.createRedisClient) };
});

describe('rate limiter (Redis)', () => {
  it('when the circuit opens, drops the connection and reconnects the same client for the trial', async () => {
    const circuit = createCircuit({ timeoutMs: 500, failuresToOpen: 1, openMs: 400 });
    const built = vi.mocked(createRedisClient).mock.calls.length;
    const limiter = createRateLimiter({
      points: 100,
      anonPoints: 50,
      mutationPoints: 10,
      windowS: 60,
      maxKeys: 1000,
      redisUrl: 'redis://127.0.0.1:6379',
      namespace: `test-rl-${randomUUID()}`,
      circuit,
      registry: new Registry(),
    });
    try {
      expect(vi.mocked(createRedisClient).mock.calls.length).toBe(built + 1);
      const key = { kind: 'address' as const, id: '10.1.1.1' };
      expect(await limiter.spend(key, 1, 'cost')).toMatchObject({ failedOpen: false, remaining: 49 });
      // Another user of the same Redis fails: the circuit opens, the limiter drops its connection.
      await circuit.call(() => Promise.reject(new Error('refused')));
      expect(circuit.isOpen()).toBe(true);
      expect((await limiter.spend(key, 1, 'cost')).failedOpen).toBe(true);
      // Past the open interval the trial finds the connection back: counting resumes.
      await sleep(500);
      expect(await limiter.spend(key, 1, 'cost')).toMatchObject({ failedOpen: false, remaining: 48 });
      expect(vi.mocked(createRedisClient).mock.calls.length).toBe(built + 1);
    } finally {
      await limiter.close();
    }
  });
});
