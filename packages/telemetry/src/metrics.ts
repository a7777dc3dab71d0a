// Prometheus metrics for a service: one registry per process with the standard process
// metrics, served on GET /metrics. Components register their own metrics on it. No
// `service` label: the scrape job names the service.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, type LabelValues, Registry } from 'prom-client';
import { telemetryState } from './state.ts';

export { Registry };

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Spans the tracing SDK could not export (full queue, failed or timed-out export): read
  // from the process-wide state the preloaded setup writes.
  new Counter({
    name: 'trellis_otel_dropped_spans_total',
    help: 'Spans dropped before export, by reason (queue_full, or the export error)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of telemetryState().droppedSpans) this.labels(reason).inc(count);
    },
  });
  return registry;
}

/**
 * The metric `name` of `registry`, created by `make` the first time: components that may be
 * built twice on one registry (two data sources, a restarted relay) share their metrics
 * instead of registering them again (prom-client throws on a duplicate name).
 */
export function registeredMetric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Increments of a batched counter not yet added to it, per label set. */
const PENDING = Symbol('trellis.pendingIncrements');
type Pending = { labels: LabelValues<string>; count: number }[];

/** A counter whose increments for known label sets are batched (see batchedCounter). */
export interface BatchedCounter<T extends string> {
  /** The counter itself: for label sets made on the fly, and for reading. */
  readonly counter: Counter<T>;
  /** The increment of one label set: make it once, call it per event (its series appears with its first increment). */
  child(labels: LabelValues<T>): (by?: number) => void;
}

/**
 * The counter `name` of `registry` (created the first time, like registeredMetric), whose
 * children sum their increments in process and add them to the counter when it is collected
 * (a scrape, or `get()`): a hot path (every cached hit) pays one addition instead of
 * prom-client's label hashing and validation on every call. What a scrape reads is exact.
 */
export function batchedCounter<T extends string>(
  registry: Registry,
  config: { name: string; help: string; labelNames: readonly T[] },
): BatchedCounter<T> {
  const counter = registeredMetric(registry, config.name, () => {
    const made = new Counter<T>({
      ...config,
      registers: [registry],
      collect() {
        for (const entry of (this as typeof made & { [PENDING]: Pending })[PENDING]) {
          if (entry.count === 0) continue;
          this.inc(entry.labels as LabelValues<T>, entry.count);
          entry.count = 0;
        }
      },
    });
    return Object.assign(made, { [PENDING]: [] as Pending });
  }) as Counter<T> & { [PENDING]?: Pending };
  const pending = counter[PENDING];
  if (!pending) throw new Error(`metric ${config.name} exists and is not a batched counter`);
  return {
    counter,
    child(labels) {
      const entry = { labels: { ...labels } as LabelValues<string>, count: 0 };
      pending.push(entry);
      return (by = 1) => {
        entry.count += by;
      };
    },
  };
}

/** The GET /metrics route for a registry (Prometheus text format). */
export function metricsRoute(registry: Registry) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  };
}
