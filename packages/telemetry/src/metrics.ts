// Prometheus metrics for a service: one registry per process with the standard process
// metrics, served on GET /metrics. Components register their own metrics on it. No
// `service` label: the scrape job names the service.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
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

/** The GET /metrics route for a registry (Prometheus text format). */
export function metricsRoute(registry: Registry) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  };
}
