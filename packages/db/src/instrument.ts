// Tracing and metrics for postgres.js, which has no OpenTelemetry instrumentation: the
// client is wrapped so that every statement (Drizzle's `unsafe` calls, tagged templates,
// inside transactions and reserved connections too) gets a CLIENT span under the active
// span (the resolver's) and a duration observation. Only @opentelemetry/api is used: a
// no-op unless the service preloaded @trellis/telemetry/setup.
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { registeredMetric } from '@trellis/telemetry/metrics';
import type postgres from 'postgres';
import { Gauge, Histogram, type Registry } from 'prom-client';

const tracer = trace.getTracer('@trellis/db');

/** Statement text safe to export: placeholders stay, literal strings and numbers become `?`. */
export function sanitizeStatement(text: string, maxLength = 2048): string {
  const sanitized = text
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![$\w.])-?\d+(?:\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return sanitized.length > maxLength ? `${sanitized.slice(0, maxLength)}…` : sanitized;
}

/** `SELECT`, `INSERT`, … and the first table named, for span names and metric labels. */
export function describeStatement(text: string): { operation: string; table?: string } {
  const operation = (/^\s*(\w+)/.exec(text)?.[1] ?? 'QUERY').toUpperCase();
  const table = /\b(?:from|into|update|join)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i.exec(text)?.[1];
  return table ? { operation, table: table.replaceAll('"', '') } : { operation };
}

const KNOWN_OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', 'BEGIN', 'COMMIT', 'ROLLBACK']);

interface DbMetrics {
  duration: Histogram<'operation'>;
  connections: Gauge<'state'>;
}

function metricsFor(registry: Registry): DbMetrics {
  return {
    duration: registeredMetric(
      registry,
      'trellis_db_query_duration_seconds',
      () =>
        new Histogram<'operation'>({
          name: 'trellis_db_query_duration_seconds',
          help: 'SQL statement duration as the service waits for it (pool wait included), by operation',
          labelNames: ['operation'],
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    ),
    connections: registeredMetric(
      registry,
      'trellis_db_pool_connections',
      () =>
        new Gauge<'state'>({
          name: 'trellis_db_pool_connections',
          help: 'Pool connections: max (configured), busy (running a statement), waiting (statements queued for one)',
          labelNames: ['state'],
          registers: [registry],
        }),
    ),
  };
}

export interface InstrumentOptions {
  /** `db.namespace` on spans. */
  database: string;
  /** Pool size, for the `max` and `busy` gauges. */
  max: number;
  registry?: Registry | undefined;
}

type Query = Promise<unknown> & { strings?: readonly string[] };

/** Text of a tagged-template statement with `$n` placeholders, as postgres.js sends it. */
function templateText(strings: readonly string[]): string {
  let text = strings[0] ?? '';
  for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`;
  return text;
}

/** Wraps a postgres.js client; the result is used exactly like the original. */
export function instrumentSql(sql: postgres.Sql, options: InstrumentOptions): postgres.Sql {
  const metrics = options.registry ? metricsFor(options.registry) : undefined;
  let inflight = 0;
  if (metrics) {
    metrics.connections.labels('max').set(options.max);
    const update = () => {
      metrics.connections.labels('busy').set(Math.min(inflight, options.max));
      metrics.connections.labels('waiting').set(Math.max(0, inflight - options.max));
    };
    update();
    const gauge = metrics.connections as Gauge<'state'> & { collect?: () => void };
    gauge.collect = update;
  }

  function observe<T>(query: T, text: string): T {
    if (!(query instanceof Promise)) return query;
    const { operation, table } = describeStatement(text);
    const span: Span = tracer.startSpan(table ? `${operation} ${table}` : operation, {
      kind: SpanKind.CLIENT,
      // OpenTelemetry's stable database conventions (semconv 1.33+).
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': options.database,
        'db.operation.name': operation,
        ...(table ? { 'db.collection.name': table } : {}),
      },
    });
    if (span.isRecording()) span.setAttribute('db.query.text', sanitizeStatement(text));
    const started = performance.now();
    inflight++;
    const done = (error?: unknown) => {
      inflight--;
      metrics?.duration
        .labels(KNOWN_OPERATIONS.has(operation) ? operation : 'OTHER')
        .observe((performance.now() - started) / 1000);
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      span.end();
    };
    // Promise's own then (postgres.js queries run lazily on their own `then`): observes the
    // result without starting the statement early or swallowing its rejection.
    Promise.prototype.then.call(
      query,
      () => done(),
      (error: unknown) => done(error ?? new Error('query failed')),
    );
    return query;
  }

  function wrap(target: postgres.Sql): postgres.Sql {
    return new Proxy(target, {
      apply(fn, thisArg, args: unknown[]) {
        const result = Reflect.apply(fn, thisArg, args) as Query;
        const strings = args[0];
        return Array.isArray(strings) && 'raw' in strings ? observe(result, templateText(strings)) : result;
      },
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        switch (property) {
          case 'unsafe':
            return (text: string, ...rest: unknown[]) =>
              observe((value as (...a: unknown[]) => unknown).call(object, text, ...rest), text);
          case 'begin':
          case 'savepoint':
            // The callback's client runs the transaction's statements: wrap it too.
            return (...args: unknown[]) =>
              (value as (...a: unknown[]) => unknown).apply(
                object,
                args.map((arg) =>
                  typeof arg === 'function'
                    ? (tx: postgres.Sql) => (arg as (t: postgres.Sql) => unknown)(wrap(tx))
                    : arg,
                ),
              );
          case 'reserve':
            return async () => {
              const reserved = await (value as () => Promise<postgres.ReservedSql>).call(object);
              return wrap(reserved as unknown as postgres.Sql);
            };
          default:
            return value;
        }
      },
    });
  }
  return wrap(sql);
}
