import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkPayload, defineQueue, fullJitterDelayMs, JobPayloadError, jobIdForKey } from './index.ts';

const queue = defineQueue({
  name: 'q',
  payload: z.object({ a: z.string() }),
  maxPayloadBytes: 50,
  retry: { baseDelayMs: 100, maxDelayMs: 1000 },
});

describe('fullJitterDelayMs', () => {
  it('is uniform in [0, min(max, base·2^(attempt−1))]', () => {
    expect(fullJitterDelayMs(queue.retry, 1, () => 0)).toBe(0);
    expect(fullJitterDelayMs(queue.retry, 1, () => 0.999)).toBe(99);
    expect(fullJitterDelayMs(queue.retry, 3, () => 0.5)).toBe(200);
    expect(fullJitterDelayMs(queue.retry, 20, () => 0.999)).toBe(999);
    const samples = Array.from({ length: 2000 }, () => fullJitterDelayMs(queue.retry, 4));
    expect(Math.min(...samples)).toBeLessThan(80);
    expect(Math.max(...samples)).toBeGreaterThan(720);
    expect(Math.max(...samples)).toBeLessThan(800);
  });
});

describe('checkPayload', () => {
  it('returns the parsed payload and refuses bad ones with a code', () => {
    expect(checkPayload(queue, { a: 'x' })).toEqual({ a: 'x' });
    expect(() => checkPayload(queue, { a: 1 })).toThrow(JobPayloadError);
    expect(() => checkPayload(queue, { a: 'x'.repeat(100) })).toThrow(/exceeds 50/);
  });
  it('rejects invalid queue names and attempts', () => {
    expect(() => defineQueue({ name: 'Bad Name', payload: z.object({}) })).toThrow();
    expect(() => defineQueue({ name: 'ok', payload: z.object({}), retry: { attempts: 0 } })).toThrow();
  });
});

describe('jobIdForKey', () => {
  it('is a stable UUID per (queue, key)', () => {
    expect(jobIdForKey('a', 'k')).toBe(jobIdForKey('a', 'k'));
    expect(jobIdForKey('a', 'k')).not.toBe(jobIdForKey('b', 'k'));
    expect(jobIdForKey('a', 'k')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
