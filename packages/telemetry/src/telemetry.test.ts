// Logs carry the active trace, the dropped-span counter reads the SDK's state, and services
// get their service.name from their entry script, their service.version from their
// package.json and their deployment environment from NODE_ENV, under OTEL_RESOURCE_ATTRIBUTES.

import { join } from 'node:path';
import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { AlwaysOnSampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { Counter, Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { serviceNameFromScript } from './env.ts';
import { activeTraceId, createLogger } from './index.ts';
import { batchedCounter, createMetricsRegistry } from './metrics.ts';
import { packageVersionOf, serviceResource } from './resource.ts';
import { EntryPointSampler } from './sampler.ts';
import { recordDroppedSpans } from './state.ts';
import { recordSpans } from './testing.ts';

const { shutdown } = recordSpans();
afterAll(shutdown);

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', destination }) };
}

describe('logs', () => {
  it('carry trace_id and span_id of the active span, and none outside a trace', () => {
    const { lines, logger } = capture();
    logger.info('outside');
    const ids = trace.getTracer('test').startActiveSpan('request', (span) => {
      logger.info({ email: 'a@b.c', token: 'secret' }, 'inside');
      span.end();
      return span.spanContext();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({
      service: 'test',
      level: 'info',
      msg: 'inside',
      trace_id: ids.traceId,
      span_id: ids.spanId,
      email: '[redacted]',
      token: '[redacted]',
    });
    expect(lines[1]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('activeTraceId is the id masked errors quote', () => {
    expect(activeTraceId()).toBeUndefined();
    trace.getTracer('test').startActiveSpan('request', (span) => {
      expect(activeTraceId()).toBe(span.spanContext().traceId);
      span.end();
    });
  });
});

describe('metrics', () => {
  it('dropped spans by reason, process metrics, no service label', async () => {
    const registry = createMetricsRegistry();
    recordDroppedSpans('queue_full', 3);
    recordDroppedSpans('queue_full', 2);
    recordDroppedSpans('OTLPExporterError', 1);
    const text = await registry.metrics();
    expect(text).toMatch(/^trellis_otel_dropped_spans_total\{reason="queue_full"\} 5$/m);
    expect(text).toMatch(/^trellis_otel_dropped_spans_total\{reason="OTLPExporterError"\} 1$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).not.toMatch(/service="/);
  });

  it('a batched counter reads exactly what its children counted, scrape after scrape', async () => {
    const registry = new Registry();
    const config = { name: 'test_batched_total', help: 'h', labelNames: ['result'] as const };
    const hits = batchedCounter(registry, config);
    const hit = hits.child({ result: 'hit' });
    // Built twice on one registry (a component made again): one counter, both counting.
    const again = batchedCounter(registry, config).child({ result: 'hit' });
    const series = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric('test_batched_total')!.get()).values.map((v) => [v.labels.result, v.value]),
      );
    // A child's series appears with its first increment; the counter itself still counts.
    expect(await series()).toEqual({});
    hits.counter.inc({ result: 'miss' });
    for (let i = 0; i < 5; i++) hit();
    again(2);
    expect(await series()).toEqual({ hit: 7, miss: 1 });
    expect(await series()).toEqual({ hit: 7, miss: 1 });
    hit();
    expect(await registry.metrics()).toMatch(/^test_batched_total\{result="hit"\} 8$/m);
    // The same name as a plain counter is refused, not silently left unflushed.
    new Counter({ name: 'test_plain_total', help: 'h', registers: [registry] });
    expect(() => batchedCounter(registry, { name: 'test_plain_total', help: 'h', labelNames: [] })).toThrow(
      /not a batched counter/,
    );
  });
});

describe('service.name', () => {
  it('comes from the entry script when OTEL_SERVICE_NAME is unset', () => {
    expect(serviceNameFromScript('/app/subgraphs/products/src/main.ts')).toBe('products');
    expect(serviceNameFromScript('/app/subgraphs/orders/src/worker.ts')).toBe('orders-worker');
    expect(serviceNameFromScript('/app/gateway/dist/main.mjs')).toBe('gateway');
    expect(serviceNameFromScript('/app/gateway/bin/gateway.mjs')).toBe('gateway');
    expect(serviceNameFromScript('/app/tools/src/seed.ts')).toBe('trellis');
  });
});

describe('resource', () => {
  const script = join(import.meta.dirname, '..', '..', '..', 'subgraphs', 'orders', 'src', 'worker.ts');
  afterEach(() => vi.unstubAllEnvs());

  it('service.version from the nearest package.json; deployment.environment.name from NODE_ENV', () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', '');
    vi.stubEnv('OTEL_SERVICE_NAME', '');
    expect(packageVersionOf(script)).toBe('0.0.0');
    expect(packageVersionOf(undefined)).toBeUndefined();
    const { attributes } = serviceResource({ script, nodeEnv: 'production' });
    expect(attributes).toMatchObject({
      'service.name': 'orders-worker',
      'service.version': '0.0.0',
      'deployment.environment.name': 'production',
      'telemetry.sdk.language': 'nodejs',
    });
  });

  it('OTEL_RESOURCE_ATTRIBUTES overrides and adds; OTEL_SERVICE_NAME names the service', () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.version=1.4.2,deployment.environment.name=staging,team=orders');
    vi.stubEnv('OTEL_SERVICE_NAME', 'orders-jobs');
    const { attributes } = serviceResource({ script, nodeEnv: 'production' });
    expect(attributes).toMatchObject({
      'service.name': 'orders-jobs',
      'service.version': '1.4.2',
      'deployment.environment.name': 'staging',
      team: 'orders',
    });
  });
});

describe('EntryPointSampler', () => {
  it('starts traces only at requests and jobs; inside a trace it defers to its delegate', () => {
    const sampler = new EntryPointSampler(new AlwaysOnSampler());
    const decide = (kind: SpanKind, parent = ROOT_CONTEXT) =>
      sampler.shouldSample(parent, '0af7651916cd43dd8448eb211c80319c', 'span', kind, {}, []).decision;
    expect(decide(SpanKind.SERVER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(SpanKind.CONSUMER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(SpanKind.PRODUCER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(SpanKind.INTERNAL)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    const inTrace = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    expect(decide(SpanKind.INTERNAL, inTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(SpanKind.CLIENT, inTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
