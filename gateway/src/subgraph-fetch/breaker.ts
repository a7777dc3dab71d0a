// The circuit breaker of one subgraph (createBreaker from @trellis/resilience, its state on
// trellis_gateway_subgraph_breaker_state) and its readiness probe: while open, the subgraph's
// readiness route is polled and a 200 closes the breaker at once.
import { type BreakerPolicy, type CircuitBreaker, createBreaker } from '@trellis/resilience';
import type { Registry } from 'prom-client';
import type { Pool } from 'undici';
import { isRequestError } from './classification.ts';

export interface SubgraphBreakerPolicy extends BreakerPolicy {
  /**
   * While open, GET this path on the subgraph's origin every `probeIntervalMs`; a 200 closes
   * the breaker at once (Trellis subgraphs report ready when their database answers), instead
   * of waiting for the next half-open trial — which, failing just before the subgraph was
   * ready, held traffic off for another `resetTimeout`. Anything else (a subgraph without the
   * route) leaves recovery to the half-open trial. `false`: no probe. @default '/health/ready'
   */
  readinessPath?: string | false;
  /** @default 500 */
  probeIntervalMs?: number;
}

export interface SubgraphBreaker {
  /** Runs one attempt through the breaker (counted; refused at once while open). */
  fire<T>(attempt: () => Promise<T>): Promise<T>;
  /** Stops the probe and the breaker's timers. */
  close(): void;
}

export function createSubgraphBreaker(
  subgraph: string,
  policy: SubgraphBreakerPolicy,
  pool: Pool,
  registry: Registry,
): SubgraphBreaker {
  let closed = false;
  let readinessProbe: NodeJS.Timeout | undefined;
  const stopProbe = () => {
    clearInterval(readinessProbe);
    readinessProbe = undefined;
  };
  const probeReadiness = async (path: string) => {
    try {
      const response = await pool.request({ path, method: 'GET', signal: AbortSignal.timeout(1000) });
      await response.body.dump();
      if (response.statusCode === 200 && (breaker.opened || breaker.halfOpen) && !closed) breaker.close();
    } catch {
      // Still down: the next tick (or the half-open trial) tries again.
    }
  };
  const { readinessPath = '/health/ready', probeIntervalMs = 500, ...counting } = policy;
  const breaker: CircuitBreaker<[() => Promise<unknown>], unknown> = createBreaker(`subgraph:${subgraph}`, {
    action: (attempt: () => Promise<unknown>) => attempt(),
    // The deadline is the data source's (it covers retries and backoff); the breaker only counts outcomes.
    ...counting,
    // The subgraph answered: a 4xx (or 429) is the request's problem, not the subgraph's
    // health. Connection errors, timeouts, 5xx and unreadable bodies count.
    isRequestError,
    metric: {
      registry,
      name: 'trellis_gateway_subgraph_breaker_state',
      help: 'Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open',
      labels: { subgraph },
    },
    onStateChange: (state) => {
      if (state === 'closed') stopProbe();
      if (state === 'open' && readinessPath !== false && !readinessProbe && !closed) {
        readinessProbe = setInterval(() => void probeReadiness(readinessPath), probeIntervalMs);
        readinessProbe.unref();
      }
    },
  });
  return {
    fire: <T>(attempt: () => Promise<T>) => breaker.fire(attempt) as Promise<T>,
    close() {
      closed = true;
      stopProbe();
      breaker.shutdown();
    },
  };
}
