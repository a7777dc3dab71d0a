// Prometheus metrics for a service: one registry per process with the standard process
// metrics, served on GET /metrics. Components register their own metrics on it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry };

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The GET /metrics route for a registry (Prometheus text format). */
export function metricsRoute(registry: Registry) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  };
}
