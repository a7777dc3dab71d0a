// Fetch metrics: registered once per registry, shared by data sources, labelled by subgraph.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { breakerState, dataSource, fetches, QUERY, run, startServer } from './harness.ts';

describe('createDataSource: metrics', () => {
  it('registers the metrics once per registry, shared by data sources and labelled by subgraph', async () => {
    const server = await startServer();
    const registry = new Registry();
    const a = dataSource({ url: server.url, registry, name: 'products' });
    const b = dataSource({ url: server.url, registry, name: 'inventory' });
    await run(a, QUERY);
    await run(b, QUERY);
    await run(b, QUERY);
    const text = await registry.metrics();
    for (const name of [
      'trellis_gateway_subgraph_fetches_total',
      'trellis_gateway_subgraph_fetch_duration_seconds',
      'trellis_gateway_subgraph_retries_total',
      'trellis_gateway_subgraph_retry_budget_exhausted_total',
      'trellis_gateway_subgraph_breaker_state',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(await fetches(registry, 'ok', 'products')).toBe(1);
    expect(await fetches(registry, 'ok', 'inventory')).toBe(2);
    const histogram = await registry.getSingleMetric('trellis_gateway_subgraph_fetch_duration_seconds')?.get();
    const count = (
      (histogram?.values ?? []) as { metricName?: string; labels: { subgraph?: string }; value: number }[]
    ).find(
      (v) =>
        v.metricName === 'trellis_gateway_subgraph_fetch_duration_seconds_count' && v.labels.subgraph === 'inventory',
    );
    expect(count?.value).toBe(2);
    expect(await breakerState(registry, 'products')).toBe(0);
  });
});
