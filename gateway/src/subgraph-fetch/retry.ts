// Retries of a subgraph query: which failures, how long to wait (full-jitter backoff, or the
// subgraph's Retry-After), never past the fetch's deadline, and at most a budgeted share of
// the traffic (a token bucket), so retries cannot multiply the load on a struggling subgraph.
import { setTimeout as sleep } from 'node:timers/promises';
import { fullJitterDelay, type RetryPolicy } from '@trellis/resilience';
import { type Classified, classify, type RetryReason } from './classification.ts';

export interface SubgraphRetryPolicy extends RetryPolicy {
  /** Attempts per fetch, the first one included. @default 3 */
  attempts?: number;
  /** Backoff base: the n-th retry waits random(0, min(maxDelayMs, baseDelayMs * 2^n)). @default 25 */
  baseDelayMs?: number;
  /** @default 250 */
  maxDelayMs?: number;
  /** Retries may spend at most this share of requests (token bucket). @default 0.2 */
  budgetRatio?: number;
  /** Retries allowed per second whatever the traffic, so a quiet gateway can still retry. @default 1 */
  minRetriesPerSecond?: number;
}

/**
 * Retry budget as a token bucket: each request deposits `ratio` tokens, each retry spends one,
 * so retries stay under `ratio` of requests once the burst allowance (`cap`) is spent. Time
 * adds `minPerSecond` tokens, so a gateway with little traffic can still retry now and then.
 */
export class RetryBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly cap = 10,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = cap;
    this.last = now();
  }

  deposit(): void {
    this.refill();
    this.tokens = Math.min(this.cap, this.tokens + this.ratio);
  }

  trySpend(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    if (this.minPerSecond > 0) {
      this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) / 1000) * this.minPerSecond);
    }
    this.last = now;
  }
}

/** A data source's retry settings, defaults applied, and its budget. */
export interface Retrier {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  budget: RetryBudget;
}

export function createRetrier(policy: SubgraphRetryPolicy = {}): Retrier {
  return {
    attempts: Math.max(1, policy.attempts ?? 3),
    baseDelayMs: policy.baseDelayMs ?? 25,
    maxDelayMs: policy.maxDelayMs ?? 250,
    budget: new RetryBudget(policy.budgetRatio ?? 0.2, policy.minRetriesPerSecond ?? 1),
  };
}

export interface RetryRun {
  /** Queries are retried; anything else gets one attempt. */
  retryable: boolean;
  /** performance.now() past which no retry starts. */
  deadline: number;
  /** The fetch's deadline signal: a wait ends when it aborts. */
  signal: AbortSignal;
  /** The error a fetch fails with once no retry is made. */
  fail(failure: Classified, cause: unknown): Error;
  onRetry(reason: RetryReason, delayMs: number): void;
  onBudgetExhausted(): void;
}

/** Runs `attempt` until it succeeds or no retry is allowed (then `run.fail(...)` is thrown). */
export async function withRetries<T>(retrier: Retrier, run: RetryRun, attempt: () => Promise<T>): Promise<T> {
  for (let attemptNo = 0; ; attemptNo++) {
    let failure: Classified;
    let cause: unknown;
    try {
      return await attempt();
    } catch (error) {
      // Past the deadline: the caller has already answered with a timeout.
      if (run.signal.aborted) throw error;
      failure = classify(error);
      cause = error;
    }
    const final = () => run.fail(failure, cause);
    if (!run.retryable || !failure.reason || attemptNo + 1 >= retrier.attempts) throw final();
    const remaining = run.deadline - performance.now();
    let delay: number;
    if (failure.retryAfterMs !== undefined) {
      // The subgraph asked for a pause: never retry before it if the request cannot wait
      // that long; otherwise wait, but no longer than our own backoff cap.
      if (failure.retryAfterMs >= remaining) throw final();
      delay = Math.min(failure.retryAfterMs, retrier.maxDelayMs);
    } else {
      delay = fullJitterDelay(attemptNo, retrier);
    }
    // A retry that would start after the deadline is a timeout in disguise: fail now.
    if (delay >= remaining) throw final();
    if (!retrier.budget.trySpend()) {
      run.onBudgetExhausted();
      throw final();
    }
    run.onRetry(failure.reason, delay);
    await sleep(delay, undefined, { signal: run.signal });
  }
}
