// SQL spans and pool/query metrics of @trellis/db against a real Postgres: every statement
// (Drizzle, tagged templates, transactions, reserved connections) gets a CLIENT span under
// the active span with a sanitised statement and no values.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { recordSpans } from '@trellis/telemetry/testing';
import { sql as drizzleSql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDatabase, withDatabase } from './index.ts';
import { describeStatement, sanitizeStatement } from './instrument.ts';

const { exporter, tracer, shutdown } = recordSpans();

const registry = new Registry();
const database = createDatabase({
  url: withDatabase(inject('databaseUrl'), 'postgres'),
  schema: {},
  applicationName: 'trellis-db-instrument-test',
  max: 3,
  registry,
});
afterAll(async () => {
  await database.close();
  await shutdown();
});
beforeEach(() => exporter.reset());

/** Runs `work` under a parent span; returns the SQL spans and the parent's id. */
async function traced(work: () => Promise<unknown>) {
  const parentId = await tracer.startActiveSpan('resolver', async (span) => {
    await work();
    span.end();
    return span.spanContext().spanId;
  });
  const spans = exporter.getFinishedSpans().filter((s) => s.attributes['db.system.name'] === 'postgresql');
  return { spans, parentId };
}

describe('SQL spans', () => {
  it('Drizzle statements: CLIENT spans under the active span, parameterised text only', async () => {
    const { spans, parentId } = await traced(() =>
      database.db.execute(drizzleSql`select ${'alice@example.com'}::text as email, ${42}::int as n`),
    );
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.name).toBe('SELECT');
    expect(span?.parentSpanContext?.spanId).toBe(parentId);
    expect(span?.attributes['db.namespace']).toBe('postgres');
    expect(span?.attributes['db.operation.name']).toBe('SELECT');
    expect(span?.attributes['db.query.text']).toBe('select $1::text as email, $2::int as n');
    // Only the stable names (semconv 1.33+), none of the old ones.
    const old = ['db.system', 'db.name', 'db.operation', 'db.statement', 'db.sql.table'];
    expect(Object.keys(span?.attributes ?? {}).filter((key) => old.includes(key))).toEqual([]);
  });

  it('the table a statement names is db.collection.name, and in the span name', async () => {
    const { spans } = await traced(() => database.sql`select relname from pg_catalog.pg_class limit ${1}`);
    expect(spans.map((s) => [s.name, s.attributes['db.collection.name']])).toEqual([
      ['SELECT pg_catalog.pg_class', 'pg_catalog.pg_class'],
    ]);
  });

  it('tagged templates, transactions and reserved connections are traced too', async () => {
    const { spans, parentId } = await traced(async () => {
      await database.sql`select ${'secret'}::text`;
      await database.db.transaction(async (tx) => {
        await tx.execute(drizzleSql`select ${1}::int`);
      });
      const reserved = await database.sql.reserve();
      try {
        await reserved`select 2`;
      } finally {
        reserved.release();
      }
    });
    const statements = spans.map((s) => s.attributes['db.query.text']);
    // BEGIN/COMMIT are sent by postgres.js itself, outside the client it hands out.
    expect(statements).toEqual(['select $1::text', 'select $1::int', 'select ?']);
    for (const span of spans) expect(span.parentSpanContext?.spanId).toBe(parentId);
    expect(JSON.stringify(statements)).not.toContain('secret');
  });

  it('a failing statement: ERROR status, and the caller still gets the rejection', async () => {
    let caught: unknown;
    const { spans } = await traced(async () => {
      try {
        await database.db.execute(drizzleSql`select * from no_such_table_here where id = ${7}`);
      } catch (error) {
        caught = error;
      }
    });
    expect(String(caught)).toMatch(/no_such_table_here/);
    expect(spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[0]?.name).toBe('SELECT no_such_table_here');
  });
});

describe('DB metrics', () => {
  it('query duration by operation and the pool gauges', async () => {
    const count = async () =>
      Number(
        /^trellis_db_query_duration_seconds_count\{operation="SELECT"\} (\d+)$/m.exec(await registry.metrics())?.[1] ??
          0,
      );
    const before = await count();
    await Promise.all([1, 2, 3, 4].map((n) => database.sql`select pg_sleep(0.05), ${n}::int`));
    expect((await count()) - before).toBe(4);
    const text = await registry.metrics();
    expect(text).toMatch(/^trellis_db_pool_connections\{state="max"\} 3$/m);
    expect(text).toMatch(/^trellis_db_pool_connections\{state="busy"\} 0$/m);
    expect(text).toMatch(/^trellis_db_pool_connections\{state="waiting"\} 0$/m);
  });

  it('counts busy and waiting statements while they run', async () => {
    const running = Promise.all([1, 2, 3, 4, 5].map(() => database.sql`select pg_sleep(0.3)`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const text = await registry.metrics();
    expect(text).toMatch(/^trellis_db_pool_connections\{state="busy"\} 3$/m);
    expect(text).toMatch(/^trellis_db_pool_connections\{state="waiting"\} 2$/m);
    await running;
  });
});

describe('statement text', () => {
  it('keeps placeholders and identifiers, drops literals', () => {
    expect(sanitizeStatement(`select * from "t1" where a = 'x''y' and b > 10.5 and c = $2`)).toBe(
      'select * from "t1" where a = ? and b > ? and c = $2',
    );
    expect(describeStatement('insert into "orders"."orders" (id) values ($1)')).toEqual({
      operation: 'INSERT',
      table: 'orders.orders',
    });
    expect(describeStatement('begin')).toEqual({ operation: 'BEGIN' });
  });
});
