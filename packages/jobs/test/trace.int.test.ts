// Trace context across a job (contracts): enqueue starts a PRODUCER span `<queue> publish`
// and stores its W3C context under `_trace`; the worker's CONSUMER span `<queue> process`
// is parented by it and linked to it.
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { postgres } from '@trellis/db';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineQueue, installJobs } from '../src/index.ts';
import { handler, startWorker } from '../src/worker.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const queue = defineQueue({ name: 'traced', payload: z.object({ n: z.number() }) });
const jobs = createJobs({ domain: 'tracetest', queues: [queue] });
let database: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_jobs_trace');
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  await installJobs({ databaseUrl: database.url, jobs });
});
afterAll(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await sql?.end();
  await database?.drop();
});

it('links the consumer span to the producer span through _trace', async () => {
  const request = trace.getTracer('test').startSpan('request');
  await context.with(trace.setSpan(context.active(), request), () => jobs.enqueue(sql, queue, { n: 1 }));
  request.end();
  const [row] = await sql`select data from tracetest_jobs.job where name = 'traced'`;
  const publish = exporter.getFinishedSpans().find((s) => s.name === 'traced publish')!;
  expect(publish.kind).toBe(SpanKind.PRODUCER);
  expect(publish.spanContext().traceId).toBe(request.spanContext().traceId);
  expect(row!.data._trace.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);

  let ran = false;
  const worker = await startWorker({
    databaseUrl: database.url,
    jobs,
    pollIntervalMs: 50,
    handlers: [
      handler(queue, async () => {
        ran = true;
      }),
    ],
  });
  for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => s.name === 'traced process'); i++)
    await sleep(50);
  await worker.stop(1000);
  expect(ran).toBe(true);
  const processSpan = exporter.getFinishedSpans().find((s) => s.name === 'traced process')!;
  expect(processSpan.kind).toBe(SpanKind.CONSUMER);
  expect(processSpan.spanContext().traceId).toBe(publish.spanContext().traceId);
  expect(processSpan.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
  expect(processSpan.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
});
