// The usage recorder's metrics (docs/telemetry.md): what was dropped and why, flushes, rows
// written, flush time and what is held in memory.
import { registeredMetric } from '@trellis/telemetry/metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UsageAggregator } from './aggregator.ts';

export function createUsageMetrics(registry: Registry, aggregator: UsageAggregator) {
  const metric = <T>(name: string, make: () => T) => registeredMetric(registry, name, make);
  const dropped = metric(
    'trellis_gateway_usage_dropped_requests_total',
    () =>
      new Counter({
        name: 'trellis_gateway_usage_dropped_requests_total',
        help: 'Requests whose usage was not recorded: over the in-memory bound (limit), in a failed flush (flush), a cached hit of a text this gateway never executed (unknown)',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const droppedBuckets = metric(
    'trellis_gateway_usage_dropped_buckets_total',
    () =>
      new Counter({
        name: 'trellis_gateway_usage_dropped_buckets_total',
        help: 'Aggregated usage rows (bucket, operation, client) dropped because their flush failed',
        registers: [registry],
      }),
  );
  const flushes = metric(
    'trellis_gateway_usage_flushes_total',
    () =>
      new Counter({
        name: 'trellis_gateway_usage_flushes_total',
        help: 'Usage flushes by result (ok, failed)',
        labelNames: ['result'],
        registers: [registry],
      }),
  );
  const rowsWritten = metric(
    'trellis_gateway_usage_rows_written_total',
    () =>
      new Counter({
        name: 'trellis_gateway_usage_rows_written_total',
        help: 'Rows upserted into gateway_usage (operations, coordinates, usage)',
        registers: [registry],
      }),
  );
  const flushSeconds = metric(
    'trellis_gateway_usage_flush_duration_seconds',
    () =>
      new Histogram({
        name: 'trellis_gateway_usage_flush_duration_seconds',
        help: 'Time one usage flush took (successful or not)',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  metric(
    'trellis_gateway_usage_pending_entries',
    () =>
      new Gauge({
        name: 'trellis_gateway_usage_pending_entries',
        help: 'Aggregated usage entries held in memory until the next flush',
        registers: [registry],
        collect() {
          this.set(aggregator.size);
        },
      }),
  );
  return { dropped, droppedBuckets, flushes, rowsWritten, flushSeconds };
}
