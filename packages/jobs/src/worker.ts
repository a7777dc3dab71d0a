// The job worker of a subgraph: fetches from its pg-boss queues with a bounded number of
// jobs in flight per queue, runs handlers in a CONSUMER span linked to the enqueuing trace,
// retries failures with full-jitter backoff up to the queue's attempts, then dead-letters
// them. A payload that no longer validates goes straight to the dead-letter queue (never a
// crash loop); one slow or poison job never blocks the others. stop() drains: no new
// fetches, in-flight jobs get until a deadline, leftovers are failed so they retry elsewhere.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Link, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import postgres from 'postgres';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  checkPayload,
  fullJitterDelayMs,
  JobPayloadError,
  type Jobs,
  PgBoss,
  pgBossDb,
  type Queue,
  type TraceCarrier,
} from './index.ts';
import { DEFAULT_JOBS_POOL_MAX } from './pool.ts';
import { type QueueStats, queueStats } from './stats.ts';

export { DEFAULT_JOBS_POOL_MAX };

/** Thrown by a handler when retrying cannot help (e.g. a 4xx answer): dead-letters at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface JobInfo {
  id: string;
  queue: string;
  /** Stable across retries and redrives: the idempotency key of the handler's effect. */
  messageId: string;
  /** 1 for the first run. */
  attempt: number;
  /** Aborted when the worker's drain deadline passes. */
  signal: AbortSignal;
}

// biome-ignore lint/suspicious/noExplicitAny: the default lets handlers of different payloads share a list
export interface JobHandler<TPayload = any> {
  queue: Queue<TPayload>;
  handle: (payload: TPayload, job: JobInfo) => Promise<void>;
  /** Jobs of this queue in flight at once. @default 4 */
  concurrency?: number;
}

/** Typed handler registration (infers the payload from the queue). */
export function handler<TPayload>(
  queue: Queue<TPayload>,
  handle: (payload: TPayload, job: JobInfo) => Promise<void>,
  options: { concurrency?: number } = {},
): JobHandler<TPayload> {
  return { queue, handle, ...options };
}

export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  databaseUrl: string;
  jobs: Jobs;
  handlers: readonly JobHandler[];
  logger?: WorkerLogger;
  /** Job metrics are registered here when given. */
  registry?: Registry;
  /** Wait between fetches when a queue is empty. @default 1000 */
  pollIntervalMs?: number;
  /** pg-boss supervision (expiring stuck jobs, archiving). @default 60 */
  maintenanceIntervalSeconds?: number;
  /**
   * Connections of the worker's own pool (pg-boss: fetch, complete, fail, supervision; queue
   * statistics; application_name `trellis-<domain>-jobs`). Independent of the handlers'
   * concurrency: a handler holds none of these while it runs, and postgres.js queues a
   * statement until a connection is free. @default DEFAULT_JOBS_POOL_MAX
   */
  poolMax?: number;
}

export interface RunningWorker {
  /** Stop fetching; let in-flight jobs finish until `deadlineMs`, then fail them (they retry). */
  stop(deadlineMs?: number): Promise<void>;
  stats(): Promise<QueueStats[]>;
  /** Jobs running now. */
  inFlight(): number;
  sql: postgres.Sql;
}

interface FetchedJob {
  id: string;
  name: string;
  data: Record<string, unknown> & { _msg?: string; _trace?: TraceCarrier };
  retryCount: number;
}

const tracer = trace.getTracer('@trellis/jobs');
const noopLogger: WorkerLogger = { info() {}, warn() {}, error() {} };

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { jobs } = options;
  const logger = options.logger ?? noopLogger;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const sql = postgres(options.databaseUrl, {
    max: options.poolMax ?? DEFAULT_JOBS_POOL_MAX,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: `trellis-${jobs.domain}-jobs` },
  });
  const boss = new PgBoss({
    db: pgBossDb(sql),
    schema: jobs.schema,
    migrate: false,
    schedule: false,
    supervise: true,
    // pg-boss 12 splits the passes: supervise/monitor expire stuck jobs, maintenance deletes.
    superviseIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    monitorIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    registerInstance: false,
    // Trellis spans jobs itself (the CONSUMER span below, linked through `_trace`).
    openTelemetry: { enabled: false },
  });
  boss.on('error', (err) => logger.warn({ err: String(err) }, 'pg-boss error'));
  await boss.start();

  const metrics = options.registry ? jobMetrics(options.registry, () => queueStats(sql, jobs)) : null;
  const abort = new AbortController();
  const running = new Map<string, { queue: string; done: Promise<void> }>();
  let stopping = false;
  // Loops waiting for a free slot or the next poll; woken when a job finishes or on stop().
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...waiters]) wake();
  };
  /** Until `ms` pass or wakeAll(); the timer is cleared either way (no pending timers pile up). */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  // Completions are batched: every job finishing while one `complete` statement is in flight
  // is marked by the next, in one statement per queue.
  let toComplete: { name: string; id: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let flushing = false;
  async function flushCompletions(): Promise<void> {
    while (toComplete.length > 0) {
      const batch = toComplete;
      toComplete = [];
      const byQueue = new Map<string, typeof batch>();
      for (const entry of batch) byQueue.set(entry.name, [...(byQueue.get(entry.name) ?? []), entry]);
      await Promise.all(
        [...byQueue].map(async ([name, entries]) => {
          try {
            await boss.complete(
              name,
              entries.map((entry) => entry.id),
            );
            for (const entry of entries) entry.resolve();
          } catch (error) {
            for (const entry of entries) entry.reject(error);
          }
        }),
      );
    }
    flushing = false;
  }
  const complete = (name: string, id: string) =>
    new Promise<void>((resolve, reject) => {
      toComplete.push({ name, id, resolve, reject });
      if (!flushing) {
        flushing = true;
        void flushCompletions();
      }
    });

  async function settleFailure(queue: Queue<unknown>, job: FetchedJob, error: unknown, attempt: number) {
    const permanent = error instanceof PermanentJobError || error instanceof JobPayloadError;
    const last = permanent || attempt >= queue.retry.attempts;
    const output = { message: error instanceof Error ? error.message : String(error), attempt };
    await sql.begin(async (tx) => {
      const db = pgBossDb(tx);
      // A permanent failure uses up the remaining attempts so pg-boss dead-letters it now. The
      // one write to pg-boss's table left: pg-boss 12 dead-letters an active job at once only
      // from its own work() loop (perJobResults 'deadletter'), not for a fetch()ed job, and
      // update() edits waiting jobs only.
      if (permanent) {
        await tx.unsafe(`update ${jobs.schema}.job set retry_limit = retry_count where name = $1 and id = $2`, [
          job.name,
          job.id,
        ]);
      }
      await boss.fail(job.name, job.id, output, { db });
      if (!last) {
        // pg-boss's own backoff is "equal jitter" (half fixed, half random): replace the
        // retry's start with full jitter (update() edits a waiting job, in this transaction).
        const delayMs = fullJitterDelayMs(queue.retry, attempt);
        await boss.update(job.name, undefined, { id: job.id, startAfter: `${delayMs} milliseconds`, db });
      }
    });
    metrics?.failures.inc({ queue: queue.name });
    metrics?.processed.inc({ queue: queue.name, outcome: last ? 'dead_lettered' : 'retried' });
    logger[last ? 'error' : 'warn'](
      { queue: queue.name, jobId: job.id, attempt, err: output.message, deadLettered: last },
      last ? 'job dead-lettered' : 'job failed; retrying',
    );
  }

  async function run(h: JobHandler, job: FetchedJob): Promise<void> {
    const queue = h.queue as Queue<unknown>;
    const attempt = job.retryCount + 1;
    const { _msg, _trace, ...rest } = job.data ?? {};
    const parent = _trace ? propagation.extract(ROOT_CONTEXT, _trace) : ROOT_CONTEXT;
    const parentSpan = trace.getSpanContext(parent);
    const links: Link[] = parentSpan ? [{ context: parentSpan }] : [];
    const stopTimer = metrics?.duration.startTimer({ queue: queue.name });
    await tracer.startActiveSpan(
      `${queue.name} process`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          'messaging.system': 'pg-boss',
          'messaging.destination.name': queue.name,
          'messaging.operation.type': 'process',
          'messaging.message.id': job.id,
          'messaging.pg_boss.attempt': attempt,
        },
      },
      parent,
      async (span) => {
        try {
          const payload = checkPayload(queue, rest);
          await h.handle(payload, {
            id: job.id,
            queue: queue.name,
            messageId: typeof _msg === 'string' ? _msg : job.id,
            attempt,
            signal: abort.signal,
          });
          await complete(job.name, job.id);
          metrics?.processed.inc({ queue: queue.name, outcome: 'completed' });
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
          await settleFailure(queue, job, error, attempt).catch((settleError) =>
            // The job stays active; pg-boss expires it and it runs again.
            logger.error(
              { queue: queue.name, jobId: job.id, err: String(settleError) },
              'could not record job failure',
            ),
          );
        } finally {
          stopTimer?.();
          span.end();
        }
      },
    );
  }

  async function loop(h: JobHandler): Promise<void> {
    const concurrency = h.concurrency ?? 4;
    const mine = new Set<Promise<void>>();
    while (!stopping) {
      const free = concurrency - mine.size;
      let fetched: FetchedJob[] = [];
      if (free > 0) {
        try {
          fetched = (await boss.fetch(h.queue.name, {
            batchSize: free,
            includeMetadata: true,
          })) as unknown as FetchedJob[];
        } catch (error) {
          logger.warn({ queue: h.queue.name, err: String(error) }, 'fetch failed');
        }
      }
      for (const job of fetched) {
        const done: Promise<void> = run(h, job).finally(() => {
          mine.delete(done);
          running.delete(job.id);
          wakeAll();
        });
        mine.add(done);
        running.set(job.id, { queue: job.name, done });
      }
      if (stopping) break;
      // Empty queue: wait for the poll interval, a finished job or stop().
      if (fetched.length === 0) await pause(pollIntervalMs);
      // Refill in batches: wait until half the slots are free (or all jobs are done).
      while (!stopping && mine.size > 0 && concurrency - mine.size < Math.ceil(concurrency / 2)) {
        await pause(60_000);
      }
    }
  }

  const loops = options.handlers.map((h) => loop(h));
  logger.info({ queues: options.handlers.map((h) => h.queue.name), schema: jobs.schema }, 'worker started');

  return {
    sql,
    inFlight: () => running.size,
    stats: () => queueStats(sql, jobs),
    async stop(deadlineMs = 10_000) {
      if (stopping) return;
      stopping = true;
      wakeAll();
      const deadline = sleep(deadlineMs).then(() => 'timeout' as const);
      const drained = Promise.all([...loops, ...[...running.values()].map((r) => r.done)]).then(
        () => 'drained' as const,
      );
      const outcome = await Promise.race([drained, deadline]);
      // Loops may have started jobs after the snapshot above; wait for those too.
      if (outcome === 'drained') await Promise.race([Promise.all([...running.values()].map((r) => r.done)), deadline]);
      abort.abort();
      const leftovers = [...running.entries()];
      for (const [id, { queue }] of leftovers) {
        await boss.fail(queue, id, { message: 'worker stopped before the job finished' }).catch(() => {});
      }
      logger.info({ abandoned: leftovers.length }, 'worker drained');
      await boss.stop({ graceful: false, close: false });
      await sql.end({ timeout: 5 });
    },
  };
}

export interface JobMetrics {
  failures: Counter<'queue'>;
  processed: Counter<'queue' | 'outcome'>;
  duration: Histogram<'queue'>;
}

/** Registers the jobs metrics (contracts) on `registry`; queue gauges read `stats` on scrape. */
export function jobMetrics(registry: Registry, stats: () => Promise<QueueStats[]>): JobMetrics {
  const gauge = (name: string, help: string, pick: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        // One statement per scrape for every gauge would be three; cache for the scrape.
        for (const s of await cachedStats()) this.set({ queue: s.queue }, pick(s));
      },
    });
  let cache: { at: number; value: Promise<QueueStats[]> } | null = null;
  const cachedStats = () => {
    if (!cache || Date.now() - cache.at > 500) cache = { at: Date.now(), value: stats().catch(() => []) };
    return cache.value;
  };
  gauge('trellis_jobs_queue_depth', 'Jobs waiting to run (created or retry), per queue.', (s) => s.depth);
  gauge('trellis_jobs_oldest_job_age_seconds', 'Age of the oldest waiting job, per queue.', (s) => s.oldestAgeSeconds);
  gauge('trellis_jobs_dead_letter_depth', 'Jobs in the dead-letter queue of each queue.', (s) => s.deadLetters);
  return {
    failures: new Counter({
      name: 'trellis_jobs_failures_total',
      help: 'Handler failures (each failed attempt), per queue.',
      labelNames: ['queue'],
      registers: [registry],
    }),
    processed: new Counter({
      name: 'trellis_jobs_processed_total',
      help: 'Jobs processed, per queue and outcome (completed, retried, dead_lettered).',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'trellis_jobs_duration_seconds',
      help: 'Handler run time, per queue.',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
