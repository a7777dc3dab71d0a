// A concurrency limit per subgraph at the gateway (a bulkhead): at most `maxInFlight` fetches
// to one subgraph at a time, so one hot client — or one slow subgraph — cannot exhaust that
// subgraph's database pool or the gateway's sockets. Beyond it a fetch waits in a short queue
// (p-limit's), for `queueMs` at most and behind at most `maxQueue` others; then it fails
// fast with SubgraphBusyError, which the data source answers as SUBGRAPH_UNAVAILABLE (the
// rest of the response is kept, as for any failed fetch). Deduplicated fetches share one slot.
// Metrics: in flight, queued, and refusals by reason, per subgraph.
import { registeredMetric } from '@trellis/telemetry/metrics';
import pLimit from 'p-limit';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConcurrencyPolicy {
  /** Fetches in flight to the subgraph at most (SUBGRAPH_MAX_CONCURRENCY[_<NAME>]). @default 128 */
  maxInFlight: number;
  /** Longest wait for a slot (SUBGRAPH_QUEUE_TIMEOUT_MS). @default 100 */
  queueMs: number;
  /** Fetches waiting at most; more are refused at once. @default 4 × maxInFlight */
  maxQueue?: number;
}

// 128, not fewer: one deep query fans out into several parallel fetches to the same subgraph,
// and 50 clients of ../shared/bench's query kept over 64 in flight to its inventory subgraph,
// so 64 refused 291 of 5,000 fetches (SUBGRAPH_UNAVAILABLE) with no subgraph in trouble.
export const DEFAULT_CONCURRENCY: ConcurrencyPolicy = { maxInFlight: 128, queueMs: 100 };

/** No slot within the queue's bounds: the subgraph is treated as unavailable for this fetch. */
export class SubgraphBusyError extends Error {
  constructor(
    readonly subgraph: string,
    readonly reason: 'queue_full' | 'queue_timeout',
  ) {
    super(`Subgraph "${subgraph}" is at its concurrency limit (${reason})`);
  }
}

export interface SubgraphConcurrency {
  /** Runs `fetch` in a slot, or rejects with SubgraphBusyError. */
  run<T>(fetch: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
  readonly queued: number;
}

interface Metrics {
  inFlight: Gauge<'subgraph'>;
  queued: Gauge<'subgraph'>;
  rejected: Counter<'subgraph' | 'reason'>;
}

/** Live limiters by registry, read by the gauges at scrape time. */
const limitersByRegistry = new WeakMap<Registry, Map<string, SubgraphConcurrency>>();

function metricsFor(registry: Registry): Metrics {
  const live = () => limitersByRegistry.get(registry) ?? new Map<string, SubgraphConcurrency>();
  const gauge = (name: string, help: string, read: (limiter: SubgraphConcurrency) => number) =>
    registeredMetric(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames: ['subgraph'],
          registers: [registry],
          collect() {
            for (const [subgraph, limiter] of live()) this.labels(subgraph).set(read(limiter));
          },
        }),
    );
  return {
    inFlight: gauge('trellis_gateway_subgraph_in_flight', 'Subgraph fetches in flight', (l) => l.inFlight),
    queued: gauge(
      'trellis_gateway_subgraph_queued',
      'Subgraph fetches waiting for a concurrency slot',
      (l) => l.queued,
    ),
    rejected: registeredMetric(
      registry,
      'trellis_gateway_subgraph_concurrency_rejected_total',
      () =>
        new Counter({
          name: 'trellis_gateway_subgraph_concurrency_rejected_total',
          help: 'Subgraph fetches refused at the concurrency limit, by reason (queue_full, queue_timeout)',
          labelNames: ['subgraph', 'reason'],
          registers: [registry],
        }),
    ),
  };
}

export function createSubgraphConcurrency(
  subgraph: string,
  policy: ConcurrencyPolicy,
  registry: Registry,
): SubgraphConcurrency {
  const limit = pLimit(policy.maxInFlight);
  const maxQueue = policy.maxQueue ?? 4 * policy.maxInFlight;
  const metrics = metricsFor(registry);
  for (const reason of ['queue_full', 'queue_timeout'] as const) metrics.rejected.labels(subgraph, reason).inc(0);
  const refuse = (reason: SubgraphBusyError['reason']) => {
    metrics.rejected.labels(subgraph, reason).inc();
    return new SubgraphBusyError(subgraph, reason);
  };
  const limiter: SubgraphConcurrency = {
    get inFlight() {
      return limit.activeCount;
    },
    get queued() {
      return limit.pendingCount;
    },
    run<T>(fetch: () => Promise<T>): Promise<T> {
      if (limit.activeCount < policy.maxInFlight && limit.pendingCount === 0) return limit(fetch);
      if (limit.pendingCount >= maxQueue) return Promise.reject(refuse('queue_full'));
      return new Promise<T>((resolve, reject) => {
        let abandoned = false;
        const timer = setTimeout(() => {
          abandoned = true;
          reject(refuse('queue_timeout'));
        }, policy.queueMs);
        // A fetch that gave up keeps its place in p-limit's queue; when its turn comes it
        // returns at once, freeing the slot for the next.
        limit(async () => {
          if (abandoned) return;
          clearTimeout(timer);
          await fetch().then(resolve, reject);
        });
      });
    },
  };
  let live = limitersByRegistry.get(registry);
  if (!live) {
    live = new Map();
    limitersByRegistry.set(registry, live);
  }
  live.set(subgraph, limiter);
  return limiter;
}
