// @trellis/resilience: the platform's one vocabulary for failing well — full-jitter backoff
// and the retry-policy shape, bounded waits that abort the work, and circuit breakers with
// their state metric. Used by the gateway's subgraph fetches, jobs, db start-up, the cache.
export { fullJitterDelay, type RetryOptions, type RetryPolicy, retryWithBackoff } from './backoff.ts';
export {
  BREAKER_STATE_VALUE,
  type BreakerOptions,
  type BreakerPolicy,
  type BreakerState,
  CircuitBreaker,
  createBreaker,
} from './breaker.ts';
export {
  type Circuit,
  type CircuitOptions,
  type CircuitOutcome,
  type CircuitResult,
  createCircuit,
} from './circuit.ts';
export { TimeoutError, withTimeout } from './timeout.ts';
