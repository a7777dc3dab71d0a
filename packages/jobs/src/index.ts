// Jobs of a subgraph on pg-boss 12 in its own database: queue definitions with a zod payload
// schema and a size cap checked at enqueue, and `enqueue()` that writes the job inside the
// caller's transaction (so a rolled-back write leaves no job). Side-effect free: the worker
// lives in `@trellis/jobs/worker`, the processed-messages table in `@trellis/jobs/schema`.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { fullJitterDelay, type RetryPolicy } from '@trellis/resilience';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { type Clock, PgBoss, type SendOptions, systemClock } from 'pg-boss';
import type postgres from 'postgres';
import type { z } from 'zod';
import { moveJobsFromArchive, setAsidePgBoss10Schema } from './upgrade.ts';

export { PgBoss };

/** The Postgres schema holding a subgraph's pg-boss tables. */
export function jobsSchemaName(domain: string): string {
  return `${domain}_jobs`;
}

/** The dead-letter queue of a queue. */
export function deadLetterName(queue: string): string {
  return `${queue}_dlq`;
}

/**
 * A queue's retries (the shared shape of @trellis/resilience): `attempts` in all, the first
 * included, then the job goes to the dead-letter queue (@default 5); full-jitter delays from
 * `baseDelayMs` (@default 1000) doubling up to `maxDelayMs` (@default 300_000).
 */
export type { RetryPolicy };

export interface QueueOptions<TSchema extends z.ZodType> {
  /** pg-boss queue name: lowercase letters, digits and `-`/`_`. */
  name: string;
  /** Validates the payload at enqueue and again before the handler runs. */
  payload: TSchema;
  /** Larger serialized payloads are refused at enqueue. @default 16_384 */
  maxPayloadBytes?: number;
  retry?: RetryPolicy;
  /** A job running longer than this is failed by pg-boss's supervisor and retried. @default 300 */
  expireInSeconds?: number;
}

export interface Queue<TPayload = unknown> {
  name: string;
  deadLetter: string;
  payload: z.ZodType<TPayload>;
  maxPayloadBytes: number;
  retry: Required<RetryPolicy>;
  expireInSeconds: number;
}

const QUEUE_NAME = /^[a-z][a-z0-9_-]{0,47}$/;

export function defineQueue<TSchema extends z.ZodType>(options: QueueOptions<TSchema>): Queue<z.output<TSchema>> {
  if (!QUEUE_NAME.test(options.name)) throw new Error(`invalid queue name "${options.name}"`);
  const attempts = options.retry?.attempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error('retry.attempts must be an integer ≥ 1');
  return {
    name: options.name,
    deadLetter: deadLetterName(options.name),
    payload: options.payload as z.ZodType<z.output<TSchema>>,
    maxPayloadBytes: options.maxPayloadBytes ?? 16_384,
    retry: {
      attempts,
      baseDelayMs: options.retry?.baseDelayMs ?? 1000,
      maxDelayMs: options.retry?.maxDelayMs ?? 300_000,
    },
    expireInSeconds: options.expireInSeconds ?? 300,
  };
}

/** The whole-millisecond full-jitter delay after failed attempt number `attempt` (1 for the first). */
export function fullJitterDelayMs(retry: Required<RetryPolicy>, attempt: number, random: () => number = Math.random) {
  return Math.floor(fullJitterDelay(Math.max(0, attempt - 1), retry, random));
}

export type JobPayloadErrorCode = 'JOB_PAYLOAD_INVALID' | 'JOB_PAYLOAD_TOO_LARGE';

/** A payload refused at enqueue: the caller's bug, never a worker crash loop. */
export class JobPayloadError extends Error {
  readonly code: JobPayloadErrorCode;
  readonly queue: string;
  readonly issues: readonly { path: PropertyKey[]; message: string }[];
  constructor(code: JobPayloadErrorCode, queue: string, message: string, issues: JobPayloadError['issues'] = []) {
    super(`${queue}: ${message}`);
    this.name = 'JobPayloadError';
    this.code = code;
    this.queue = queue;
    this.issues = issues;
  }
}

/** The W3C trace context carried in a job's data (contracts: `_trace`). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Job data as stored: the payload plus the message id and the trace context. */
export type StoredJobData<TPayload> = TPayload & { _msg: string; _trace?: TraceCarrier };

/** Validates and sizes a payload; returns the parsed payload or throws JobPayloadError. */
export function checkPayload<TPayload>(queue: Queue<TPayload>, payload: unknown): TPayload {
  const parsed = queue.payload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
    const first = issues[0];
    throw new JobPayloadError(
      'JOB_PAYLOAD_INVALID',
      queue.name,
      `invalid payload${first ? ` at ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`,
      issues,
    );
  }
  if (parsed.data === null || typeof parsed.data !== 'object' || Array.isArray(parsed.data)) {
    throw new JobPayloadError('JOB_PAYLOAD_INVALID', queue.name, 'payload must be an object');
  }
  const bytes = Buffer.byteLength(JSON.stringify(parsed.data));
  if (bytes > queue.maxPayloadBytes) {
    throw new JobPayloadError(
      'JOB_PAYLOAD_TOO_LARGE',
      queue.name,
      `payload of ${bytes} bytes exceeds ${queue.maxPayloadBytes}`,
    );
  }
  return parsed.data;
}

/** What runs SQL: a postgres.js `Sql`/transaction, or a Drizzle postgres-js database/transaction. */
// biome-ignore lint/suspicious/noExplicitAny: any Drizzle schema
export type Executor = SqlLike | PgDatabase<PgQueryResultHKT, any, any> | PgTransaction<PgQueryResultHKT, any, any>;
export interface SqlLike {
  // biome-ignore lint/suspicious/noExplicitAny: postgres.js parameter values
  unsafe(query: string, params?: any[]): PromiseLike<any>;
  typed(value: unknown, oid: number): unknown;
}

const TEXT_OID = 25;

// biome-ignore lint/suspicious/noExplicitAny: a row of any statement
export type AnyRow = Record<string, any>;
// biome-ignore lint/suspicious/noExplicitAny: a queue of any payload (handlers are typed per queue)
export type AnyQueue = Queue<any>;

function sqlOf(executor: Executor): SqlLike {
  if ('unsafe' in executor && 'typed' in executor) return executor as SqlLike;
  // Drizzle keeps the postgres.js connection (or transaction) of a database/transaction here.
  const client = (executor as { session?: { client?: SqlLike } }).session?.client;
  if (!client || typeof client.unsafe !== 'function' || typeof client.typed !== 'function')
    throw new Error('enqueue: not a postgres.js or Drizzle executor');
  return client;
}

/**
 * pg-boss's `db` adapter over postgres.js. Objects (job data, outputs) go as JSON text typed
 * `text` (pg-boss casts them): postgres.js's json serializer cannot be relied on, since
 * Drizzle replaces it on any client it wraps.
 */
export function pgBossDb(executor: Executor): {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: AnyRow[] }>;
} {
  const sql = sqlOf(executor);
  return {
    async executeSql(text, values = []) {
      // pg-boss 12 sends its supervision passes as one `BEGIN; …; COMMIT;` text. postgres.js
      // refuses BEGIN on a pool (the statements could land on different connections): run it
      // on one reserved connection. Its answer is one result per statement: their rows.
      if (values.length === 0 && BEGINS_TRANSACTION.test(text) && 'reserve' in sql) {
        const reserved = await (sql as unknown as postgres.Sql).reserve();
        try {
          const results = (await reserved.unsafe(text)) as unknown as AnyRow[][];
          return { rows: results.flatMap((result) => (Array.isArray(result) ? Array.from(result) : [])) };
        } finally {
          reserved.release();
        }
      }
      const rows = await sql.unsafe(
        text,
        values.map((value) =>
          value === undefined
            ? null
            : value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
              ? sql.typed(JSON.stringify(value), TEXT_OID)
              : value,
        ),
      );
      return { rows: Array.from(rows as ArrayLike<AnyRow>) };
    },
  };
}

const BEGINS_TRANSACTION = /^\s*BEGIN\s*;/i;

/** A deterministic job id for an idempotency key: the same key never enqueues twice. */
export function jobIdForKey(queue: string, key: string): string {
  const hex = createHash('sha256').update(`${queue}\0${key}`).digest('hex');
  // Shaped as a version-5-like UUID so Postgres accepts it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface EnqueueOptions {
  /**
   * Idempotency key: the job id is derived from it, so enqueueing the same key again (even
   * in another transaction) is a no-op returning null. Also the handler's processed-message id.
   */
  key?: string;
  /** Run no earlier than this. */
  startAfter?: Date;
}

/** pg-boss's db adapter: what every pg-boss statement runs through. */
export type PgBossDb = ReturnType<typeof pgBossDb>;

/**
 * pg-boss's system clock with timers that never keep the process alive: a producer's only
 * timers are its queue-cache refresh (and flow resolver), which must not hold a script open.
 */
const unrefClock: Clock = {
  ...systemClock,
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
};

/**
 * A pg-boss instance for sending (and redriving) inside the caller's transaction. pg-boss 12
 * only sends from a started instance (it reads the queue's table and policy from its queue
 * cache): this one has no connection of its own — every statement, its start included, runs
 * on the executor of the call in flight. It starts on first use; its periodic cache refresh,
 * outside any call, fails quietly and keeps the queues it read (queues change only at install).
 */
function createProducer(schema: string) {
  const current = new AsyncLocalStorage<PgBossDb>();
  const boss = new PgBoss({
    schema,
    db: {
      executeSql: (text, values) => {
        const db = current.getStore();
        return db ? db.executeSql(text, values) : Promise.reject(new Error('@trellis/jobs: no executor in flight'));
      },
    },
    migrate: false,
    supervise: false,
    schedule: false,
    registerInstance: false,
    clock: unrefClock,
    // Trellis spans jobs itself (`<queue> publish` / `<queue> process`, trace context in `_trace`).
    openTelemetry: { enabled: false },
  });
  boss.on('error', () => {});
  let started: Promise<unknown> | undefined;
  return <T>(executor: Executor, fn: (boss: PgBoss, db: PgBossDb) => Promise<T>): Promise<T> => {
    const db = pgBossDb(executor);
    return current.run(db, async () => {
      started ??= boss.start().catch((error: unknown) => {
        started = undefined;
        throw error;
      });
      await started;
      return fn(boss, db);
    });
  };
}

export interface Jobs {
  domain: string;
  /** Postgres schema of the pg-boss tables (`<domain>_jobs`). */
  schema: string;
  queues: readonly AnyQueue[];
  /**
   * Validates the payload (JobPayloadError), then inserts the job with the given executor —
   * pass the write's transaction so the job commits or rolls back with it. Returns the job
   * id, or null when `key` was enqueued before.
   */
  enqueue<TPayload>(
    executor: Executor,
    queue: Queue<TPayload>,
    payload: TPayload,
    options?: EnqueueOptions,
  ): Promise<string | null>;
  /** Runs `fn` with this subgraph's producer pg-boss and `executor` as its db (send, redrive). */
  withBoss<T>(executor: Executor, fn: (boss: PgBoss, db: PgBossDb) => Promise<T>): Promise<T>;
}

const tracer = trace.getTracer('@trellis/jobs');

export function createJobs(options: { domain: string; queues: readonly AnyQueue[] }): Jobs {
  const schema = jobsSchemaName(options.domain);
  const withBoss = createProducer(schema);
  const known = new Set(options.queues.map((queue) => queue.name));
  return {
    domain: options.domain,
    schema,
    queues: options.queues,
    withBoss,
    async enqueue(executor, queue, payload, enqueueOptions = {}) {
      if (!known.has(queue.name)) throw new Error(`queue "${queue.name}" is not one of ${options.domain}'s queues`);
      const data = checkPayload(queue, payload) as Record<string, unknown>;
      const messageId = enqueueOptions.key ?? randomUUID();
      return tracer.startActiveSpan(
        `${queue.name} publish`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'pg-boss',
            'messaging.destination.name': queue.name,
            'messaging.operation.type': 'send',
          },
        },
        async (span) => {
          try {
            const carrier: TraceCarrier = {};
            // Explicitly the publish span's context: works without a context manager too.
            propagation.inject(trace.setSpan(context.active(), span), carrier);
            const stored: StoredJobData<Record<string, unknown>> = {
              ...data,
              _msg: messageId,
              ...(carrier.traceparent ? { _trace: carrier } : {}),
            };
            const id = await withBoss(executor, (boss, db) =>
              boss.send(queue.name, stored, {
                db,
                id: enqueueOptions.key ? jobIdForKey(queue.name, enqueueOptions.key) : randomUUID(),
                ...(enqueueOptions.startAfter ? { startAfter: enqueueOptions.startAfter } : {}),
              } satisfies SendOptions),
            );
            if (id === null && !enqueueOptions.key) {
              // No key, so no conflict is possible: the queue itself is missing.
              throw new Error(`queue "${queue.name}" does not exist in ${schema} (run installJobs at migration)`);
            }
            if (id) span.setAttribute('messaging.message.id', id);
            return id;
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}

/**
 * Creates (or migrates) the pg-boss schema `<domain>_jobs` and every queue with its
 * dead-letter queue. Idempotent; run where the subgraph migrates.
 */
export async function installJobs(options: { databaseUrl: string; jobs: Jobs }): Promise<void> {
  // pg-boss 12 cannot migrate a pg-boss 10 schema in place: set it aside first (./upgrade.ts).
  await setAsidePgBoss10Schema(options.databaseUrl, options.jobs.schema);
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: options.jobs.schema,
    max: 1,
    supervise: false,
    schedule: false,
    // Creates the schema, or migrates one an older pg-boss left (10 → 12 included).
    migrate: true,
    registerInstance: false,
    openTelemetry: { enabled: false },
    application_name: `trellis-${options.jobs.domain}-jobs-install`,
  });
  boss.on('error', () => {});
  await boss.start();
  try {
    const existing = new Set((await boss.getQueues()).map((queue) => queue.name));
    for (const queue of options.jobs.queues) {
      if (!existing.has(queue.deadLetter)) await boss.createQueue(queue.deadLetter, { retryLimit: 0 });
      const settings = {
        // Retries are counted by pg-boss; their delay is ours (full jitter, set on failure). The
        // queue's own delay is the cap, so a retry is never early if that update is lost.
        retryLimit: queue.retry.attempts - 1,
        retryDelay: Math.ceil(queue.retry.maxDelayMs / 1000),
        retryBackoff: false,
        expireInSeconds: queue.expireInSeconds,
        deadLetter: queue.deadLetter,
      };
      if (existing.has(queue.name)) await boss.updateQueue(queue.name, settings);
      else await boss.createQueue(queue.name, { ...settings, policy: 'standard' });
    }
    // The jobs a pg-boss 10 schema set aside still had to run, if any.
    await moveJobsFromArchive(options.databaseUrl, boss, options.jobs);
  } finally {
    await boss.stop({ graceful: false, timeout: 1000 });
  }
}

export { isProcessed, type MessageRef, markProcessed, type OnceResult, processOnce } from './idempotency.ts';
export { type QueueStats, queueStats, redrive } from './stats.ts';
export { archiveSchemaName } from './upgrade.ts';
