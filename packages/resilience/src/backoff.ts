// Retries with full-jitter exponential backoff: the one retry-policy shape of Trellis (the
// gateway's subgraph fetches, job queues, start-up waits) and the one delay formula.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first one included. @default depends on the caller (gateway 3, jobs 5, start-up waits unbounded) */
  attempts?: number;
  /** Ceiling of the first retry's delay; doubles with each retry. @default depends on the caller */
  baseDelayMs?: number;
  /** Cap of the ceiling. @default depends on the caller */
  maxDelayMs?: number;
}

/**
 * Full jitter (AWS architecture blog): the delay before retry number `retry` (0 for the first
 * retry) is uniform in [0, min(maxDelayMs, baseDelayMs · 2^retry)).
 */
export function fullJitterDelay(
  retry: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
}

export interface RetryOptions extends RetryPolicy {
  /** Stop retrying (and stop waiting) when this aborts: the last error is thrown. */
  signal?: AbortSignal;
  /** Called before each wait, with the failed attempt's number (1 for the first) and the delay. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `task` until it succeeds or `attempts` are used up (the last error is thrown), waiting
 * a full-jitter delay between attempts. Defaults suit a start-up wait (a service without its
 * database waits, it does not crash-loop): unbounded attempts, 200 ms base, 5 s cap.
 */
export async function retryWithBackoff<T>(task: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { baseDelayMs: options.baseDelayMs ?? 200, maxDelayMs: options.maxDelayMs ?? 5000 };
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (options.signal?.aborted || attempt >= attempts) throw error;
      const delay = Math.round(fullJitterDelay(attempt - 1, policy));
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
