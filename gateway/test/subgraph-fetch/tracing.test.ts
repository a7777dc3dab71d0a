// The data source under an OpenTelemetry SDK: one CLIENT span per fetch named after the
// subgraph, traceparent sent to the subgraph, deduplication unaffected by trace context.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { context, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { recordSpans } from '@trellis/telemetry/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDataSources, createDataSource, type TrellisDataSource } from '../../src/subgraph-fetch/index.ts';

const { exporter, tracer, shutdown } = recordSpans();

const received: IncomingMessage['headers'][] = [];
const server = createServer((req, res) => {
  received.push(req.headers);
  req.resume();
  req.on('end', () =>
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"hello":"world"}}'), 50),
  );
});
let source: TrellisDataSource;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  source = createDataSource({ name: 'products', url, registry: new Registry() });
});
afterAll(async () => {
  await closeDataSources([source]);
  server.close();
  await shutdown();
});
beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

const fetchOnce = () =>
  source.process({
    kind: 'health check',
    request: { query: 'query Q__products__0 { hello }' },
    context: {},
  } as unknown as GraphQLDataSourceProcessOptions);

/** Runs a fetch inside a fresh trace (a new root span, as an incoming request would). */
async function inTrace(): Promise<string> {
  return await tracer.startActiveSpan('request', async (root) => {
    await fetchOnce();
    root.end();
    return root.spanContext().traceId;
  });
}

describe('subgraph fetch spans', () => {
  it('creates a CLIENT span named after the subgraph and sends its context as traceparent', async () => {
    const traceId = await inTrace();
    const [fetch] = exporter.getFinishedSpans().filter((s) => s.name === 'fetch products');
    expect(fetch?.kind).toBe(SpanKind.CLIENT);
    expect(fetch?.spanContext().traceId).toBe(traceId);
    expect(fetch?.attributes['trellis.fetch.outcome']).toBe('ok');
    expect(received[0]?.traceparent).toBe(`00-${traceId}-${fetch?.spanContext().spanId}-01`);
  });

  it('still deduplicates identical fetches from different traces; the followers link to the fetch that went out', async () => {
    const traces = await Promise.all([inTrace(), inTrace(), inTrace()]);
    expect(received).toHaveLength(1);
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'fetch products');
    expect(spans).toHaveLength(3);
    const leader = spans.find((s) => !s.attributes['trellis.fetch.deduplicated']);
    const followers = spans.filter((s) => s.attributes['trellis.fetch.deduplicated'] === true);
    expect(followers).toHaveLength(2);
    expect(received[0]?.traceparent).toContain(leader?.spanContext().spanId);
    for (const follower of followers) {
      expect(follower.links.map((l) => l.context.spanId)).toEqual([leader?.spanContext().spanId]);
      expect(follower.spanContext().traceId).not.toBe(leader?.spanContext().traceId);
    }
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set(traces));
  });

  it('inside a trace that is not sampled: no span, the parent context (flag 00) is propagated', async () => {
    const parent = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    await context.with(trace.setSpan(context.active(), parent), fetchOnce);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(received[0]?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
  });
});
