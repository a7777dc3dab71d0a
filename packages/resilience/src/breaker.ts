// Circuit breakers (opossum) with their state as a Prometheus gauge: 0 closed, 1 half-open,
// 2 open. One way to build one, so every breaker of the platform (the gateway's per subgraph,
// a webhook's) counts failures, recovers and reports alike.
import { registeredMetric } from '@trellis/telemetry/metrics';
import CircuitBreaker from 'opossum';
import { Gauge, type Registry } from 'prom-client';

export { CircuitBreaker };

export type BreakerState = 'closed' | 'half_open' | 'open';

/** The gauge values of each state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

export interface BreakerPolicy {
  /** Failure percentage over the rolling window that opens the breaker. @default 50 */
  errorThresholdPercentage?: number;
  /** Attempts in the window before the breaker may open at all. @default 10 */
  volumeThreshold?: number;
  /** Time open before one trial attempt (half-open). @default 5000 */
  resetTimeout?: number;
  /** Rolling statistics window. @default 10000 */
  rollingCountTimeout?: number;
}

export interface BreakerOptions<TArgs extends unknown[], TResult> extends BreakerPolicy {
  /** What the breaker guards. */
  action: (...args: TArgs) => Promise<TResult>;
  /**
   * Errors that are the request's fault, not the guarded service's (a 4xx, a refusal): they
   * pass through without counting as failures. @default none
   */
  isRequestError?: (error: unknown) => boolean;
  /** opossum's own per-call timeout; callers here bound their calls themselves. @default false */
  timeout?: number | false;
  /**
   * The state gauge: created once per registry (shared by every breaker reporting to it), this
   * breaker's series labelled with `labels`. @default no metric
   */
  metric?: { registry: Registry; name: string; help: string; labels?: Record<string, string> };
  /** Called on every state change (logs). */
  onStateChange?: (state: BreakerState) => void;
}

/** A breaker named `name` (opossum's `name`) around `options.action`; its gauge starts at closed. */
export function createBreaker<TArgs extends unknown[], TResult>(
  name: string,
  options: BreakerOptions<TArgs, TResult>,
): CircuitBreaker<TArgs, TResult> {
  const breaker = new CircuitBreaker<TArgs, TResult>(options.action, {
    name,
    timeout: options.timeout ?? false,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 10,
    resetTimeout: options.resetTimeout ?? 5000,
    rollingCountTimeout: options.rollingCountTimeout ?? 10_000,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    ...(options.isRequestError ? { errorFilter: options.isRequestError } : {}),
  });
  const gauge = options.metric && breakerGauge(options.metric);
  const report = (state: BreakerState) => {
    gauge?.set(BREAKER_STATE_VALUE[state]);
    options.onStateChange?.(state);
  };
  gauge?.set(BREAKER_STATE_VALUE.closed);
  breaker.on('open', () => report('open'));
  breaker.on('halfOpen', () => report('half_open'));
  breaker.on('close', () => report('closed'));
  return breaker;
}

/** This breaker's series of the shared state gauge. */
function breakerGauge(metric: NonNullable<BreakerOptions<never, unknown>['metric']>): { set(value: number): void } {
  const { registry, name, help } = metric;
  const labels = metric.labels ?? {};
  const gauge = registeredMetric(
    registry,
    name,
    () => new Gauge({ name, help, labelNames: Object.keys(labels), registers: [registry] }),
  );
  return Object.keys(labels).length ? gauge.labels(labels) : gauge;
}
