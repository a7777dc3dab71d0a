// Full-jitter backoff and retryWithBackoff: the delay formula, attempts, abort.
import { describe, expect, it } from 'vitest';
import { fullJitterDelay, retryWithBackoff } from './backoff.ts';

describe('fullJitterDelay', () => {
  it('is uniform below min(max, base · 2^retry)', () => {
    const policy = { baseDelayMs: 25, maxDelayMs: 250 };
    expect(fullJitterDelay(0, policy, () => 0)).toBe(0);
    expect([0, 1, 2, 3, 4, 5].map((n) => fullJitterDelay(n, policy, () => 0.5))).toEqual([12.5, 25, 50, 100, 125, 125]);
    for (let n = 0; n < 8; n++) {
      const delay = fullJitterDelay(n, policy);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(250, 25 * 2 ** n));
    }
  });
});

describe('retryWithBackoff', () => {
  it('retries until the task succeeds, reporting each failed attempt and its delay', async () => {
    let calls = 0;
    const retries: [number, number][] = [];
    const result = await retryWithBackoff(
      async () => {
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { baseDelayMs: 4, maxDelayMs: 8, onRetry: (_error, attempt, delay) => retries.push([attempt, delay]) },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(retries.map(([attempt]) => attempt)).toEqual([1, 2]);
    expect(retries[0]?.[1]).toBeLessThanOrEqual(4);
    expect(retries[1]?.[1]).toBeLessThanOrEqual(8);
  });

  it('throws the last error once the attempts are used up', async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          throw new Error(`fail ${++calls}`);
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = retryWithBackoff(
      async () => {
        throw new Error('down');
      },
      { baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
