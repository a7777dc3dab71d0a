// Fetch metrics: created once per registry (registeredMetric) and shared by every data source
// on it, labelled by subgraph. The breaker's state gauge is created with the breaker (breaker.ts).
import { registeredMetric } from '@trellis/telemetry/metrics';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RetryReason } from './classification.ts';
import type { FetchOutcome } from './errors.ts';

const counter = <L extends string>(registry: Registry, name: string, help: string, labelNames: L[]) =>
  registeredMetric(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));

/** One subgraph's series, resolved once: the hot path only increments. */
export interface FetchMetrics {
  outcomes: Record<FetchOutcome, { inc(value?: number): void }>;
  duration: { observe(seconds: number): void };
  retried(reason: RetryReason): void;
  budgetExhausted: { inc(value?: number): void };
}

export function fetchMetrics(registry: Registry, subgraph: string): FetchMetrics {
  const fetches = counter(
    registry,
    'trellis_gateway_subgraph_fetches_total',
    'Subgraph fetches by outcome (ok, error, timeout, unavailable, deduplicated)',
    ['subgraph', 'outcome'],
  );
  const duration = registeredMetric(
    registry,
    'trellis_gateway_subgraph_fetch_duration_seconds',
    () =>
      new Histogram<'subgraph'>({
        name: 'trellis_gateway_subgraph_fetch_duration_seconds',
        help: 'Subgraph fetch duration as the gateway waits for it, retries included',
        labelNames: ['subgraph'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  const retries = counter(
    registry,
    'trellis_gateway_subgraph_retries_total',
    'Subgraph fetch retries by reason (connection, http_429, http_502, http_503, http_504)',
    ['subgraph', 'reason'],
  );
  const budgetExhausted = counter(
    registry,
    'trellis_gateway_subgraph_retry_budget_exhausted_total',
    'Retries not made because the retry budget was spent',
    ['subgraph'],
  );
  const outcomes = {} as FetchMetrics['outcomes'];
  for (const outcome of ['ok', 'error', 'timeout', 'unavailable', 'deduplicated'] as const) {
    outcomes[outcome] = fetches.labels(subgraph, outcome);
    outcomes[outcome].inc(0);
  }
  const exhausted = budgetExhausted.labels(subgraph);
  exhausted.inc(0);
  return {
    outcomes,
    duration: duration.labels(subgraph),
    retried: (reason) => retries.labels(subgraph, reason).inc(),
    budgetExhausted: exhausted,
  };
}
