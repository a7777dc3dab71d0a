// @trellis/jobs against real Postgres: enqueue inside the caller's transaction, payload
// checks at enqueue, idempotent keys, retries with full jitter then the dead-letter queue,
// poison jobs, redrive, processOnce, graceful drain and queue stats, and the worker's own
// connection pool staying within its cap however many jobs run at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { postgres } from '@trellis/db';
import { createTestDatabase, type TestDatabase, until } from '@trellis/testing';
import { pgSchema } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  defineQueue,
  installJobs,
  JobPayloadError,
  processOnce,
  queueStats,
  redrive,
} from '../src/index.ts';
import { processedMessagesTable } from '../src/schema.ts';
import { DEFAULT_JOBS_POOL_MAX, handler, PermanentJobError, type RunningWorker, startWorker } from '../src/worker.ts';

const fast = { baseDelayMs: 20, maxDelayMs: 100 };
const echo = defineQueue({
  name: 'echo',
  payload: z.object({ n: z.number().int() }),
  maxPayloadBytes: 200,
  retry: { attempts: 3, ...fast },
});
const flaky = defineQueue({
  name: 'flaky',
  payload: z.object({ n: z.number().int() }),
  retry: { attempts: 3, ...fast },
});
const slow = defineQueue({ name: 'slow', payload: z.object({ ms: z.number().int() }) });
const many = defineQueue({ name: 'many', payload: z.object({ n: z.number().int() }) });
/** Four queues of jobs that fail once, then succeed: fetches, completions and failures at once. */
const bursts = ['burst-a', 'burst-b', 'burst-c', 'burst-d'].map((name) =>
  defineQueue({
    name,
    payload: z.object({ n: z.number().int() }),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  }),
);
const jobs = createJobs({ domain: 'jobstest', queues: [echo, flaky, slow, many, ...bursts] });

const testSchema = pgSchema('jobstest');
const processed = processedMessagesTable(testSchema);

let database: TestDatabase;
let sql: postgres.Sql;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_jobs');
  sql = postgres(database.url, { max: 5, onnotice: () => {} });
  await installJobs({ databaseUrl: database.url, jobs });
  await installJobs({ databaseUrl: database.url, jobs }); // idempotent
  await sql.unsafe(`create schema jobstest;
    create table jobstest.processed_messages (queue text not null, message_id text not null,
      processed_at timestamptz not null default now(), primary key (queue, message_id));
    create table jobstest.effects (message_id text not null, n int not null)`);
});
afterAll(async () => {
  for (const worker of workers) await worker.stop(1000);
  await sql?.end();
  await database?.drop();
});

async function start(
  handlers: Parameters<typeof startWorker>[0]['handlers'],
  registry?: Registry,
  options: { poolMax?: number } = {},
) {
  const worker = await startWorker({
    databaseUrl: database.url,
    jobs,
    handlers,
    pollIntervalMs: 50,
    ...(registry ? { registry } : {}),
    ...options,
  });
  workers.push(worker);
  return worker;
}

const jobsIn = async (name: string) =>
  sql.unsafe(
    `select id, state::text, data, retry_count, start_after, created_on from jobstest_jobs.job where name = $1 order by created_on`,
    [name],
  );

describe('enqueue', () => {
  it('writes the job with the transaction: rolled back leaves none, committed is stored', async () => {
    await expect(
      sql.begin(async (tx) => {
        await jobs.enqueue(tx, echo, { n: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await jobsIn('echo')).toHaveLength(0);

    await sql.begin((tx) => jobs.enqueue(tx, echo, { n: 2 }));
    const rows = await jobsIn('echo');
    expect(rows.map((r) => r.data.n)).toEqual([2]);
    expect(typeof rows[0]!.data._msg).toBe('string');
    await sql`delete from jobstest_jobs.job where name = 'echo'`;
  });

  it('accepts a Drizzle transaction', async () => {
    const db = drizzle(sql);
    const id = await db.transaction((tx) => jobs.enqueue(tx, echo, { n: 3 }));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await jobsIn('echo')).map((r) => r.id)).toEqual([id]);
    await sql`delete from jobstest_jobs.job where name = 'echo'`;
  });

  it('refuses malformed and oversized payloads with a typed error, storing nothing', async () => {
    const bad = jobs.enqueue(sql, echo, { n: 'x' } as never);
    await expect(bad).rejects.toBeInstanceOf(JobPayloadError);
    await expect(bad).rejects.toMatchObject({ code: 'JOB_PAYLOAD_INVALID', queue: 'echo' });
    const big = defineQueue({
      name: 'echo',
      payload: z.object({ n: z.number(), pad: z.string() }),
      maxPayloadBytes: 200,
    });
    await expect(jobs.enqueue(sql, big, { n: 1, pad: 'x'.repeat(500) })).rejects.toMatchObject({
      code: 'JOB_PAYLOAD_TOO_LARGE',
    });
    expect(await jobsIn('echo')).toHaveLength(0);
  });

  it('enqueues an idempotency key once, even from separate transactions', async () => {
    const first = await sql.begin((tx) => jobs.enqueue(tx, echo, { n: 4 }, { key: 'order-1' }));
    const second = await sql.begin((tx) => jobs.enqueue(tx, echo, { n: 4 }, { key: 'order-1' }));
    expect(first).not.toBeNull();
    expect(second).toBeNull();
    const rows = await jobsIn('echo');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.data._msg).toBe('order-1');
    await sql`delete from jobstest_jobs.job where name = 'echo'`;
  });
});

describe('worker', () => {
  it('runs committed jobs, retries failures with jittered backoff, then dead-letters; redrive runs them once', async () => {
    const registry = new Registry();
    const seen: { n: number; attempt: number; at: number }[] = [];
    let healthy = false;
    const worker = await start(
      [
        handler(flaky, async ({ n }, job) => {
          seen.push({ n, attempt: job.attempt, at: Date.now() });
          if (!healthy || n === 13) throw new Error(`boom ${n}`);
          await processOnce(drizzle(sql), processed, job, (tx) =>
            tx.execute(`insert into jobstest.effects values ('${job.messageId}', ${n})` as never),
          );
        }),
      ],
      registry,
    );
    await sql.begin((tx) => jobs.enqueue(tx, flaky, { n: 1 }));
    const dead = await until(
      () => queueStats(sql, jobs),
      (stats) => stats.find((s) => s.queue === 'flaky')!.deadLetters === 1,
    );
    expect(dead.find((s) => s.queue === 'flaky')).toMatchObject({ depth: 0, failed: 1, deadLetters: 1 });
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    // Full jitter: each wait is at most the attempt's ceiling (20 ms, 40 ms) plus polling slack.
    expect(seen[1]!.at - seen[0]!.at).toBeLessThan(20 + 50 + 250);
    expect(seen[2]!.at - seen[1]!.at).toBeLessThan(40 + 50 + 250);

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/trellis_jobs_failures_total\{queue="flaky"\} 3/);
    expect(metrics).toMatch(/trellis_jobs_processed_total\{queue="flaky",outcome="dead_lettered"\} 1/);
    expect(metrics).toMatch(/trellis_jobs_dead_letter_depth\{queue="flaky"\} 1/);
    expect(metrics).toMatch(/trellis_jobs_duration_seconds_count\{queue="flaky"\} 3/);

    healthy = true;
    expect(await redrive(sql, jobs, 'flaky')).toBe(1);
    expect(await redrive(sql, jobs, 'flaky')).toBe(0);
    await until(
      () => sql`select count(*)::int as n from jobstest.effects`,
      (rows) => rows[0]!.n === 1,
    );
    await until(
      () => queueStats(sql, jobs),
      (stats) => stats.find((s) => s.queue === 'flaky')!.completed === 1,
    );
    // The redriven job carries the same message id: a second redrive of it would be skipped.
    const [effect] = await sql`select message_id from jobstest.effects`;
    const counted =
      await sql`select count(*)::int as n from jobstest.processed_messages where message_id = ${effect!.message_id}`;
    expect(counted[0]!.n).toBe(1);
    await worker.stop(1000);
  });

  it('a poison job (payload no longer valid) is dead-lettered at once and does not block others', async () => {
    const ran: number[] = [];
    // Bypass enqueue's validation, as an older producer or a hand-edited row would.
    await sql.unsafe(
      `insert into jobstest_jobs.job (name, data, dead_letter, retry_limit) values ('echo', '{"n":"poison","_msg":"p"}', 'echo_dlq', 2)`,
    );
    for (const n of [1, 2, 3]) await jobs.enqueue(sql, echo, { n });
    const worker = await start([handler(echo, async ({ n }) => void ran.push(n), { concurrency: 1 })]);
    await until(
      async () => ran.length,
      (length) => length === 3,
    );
    // A job is marked completed after its handler returns (completions are batched): wait
    // for the queue to settle — nothing active — before reading its final counts.
    const stats = await until(
      () => queueStats(sql, jobs),
      (s) => {
        const queue = s.find((q) => q.queue === 'echo')!;
        return queue.active === 0 && queue.depth === 0 && queue.completed + queue.failed === 4;
      },
    );
    expect(stats.find((q) => q.queue === 'echo')).toMatchObject({ depth: 0, completed: 3, failed: 1, deadLetters: 1 });
    const failed = await sql`select retry_count from jobstest_jobs.job where name = 'echo' and state = 'failed'`;
    expect(failed[0]!.retry_count).toBe(0); // no retries spent on it
    await worker.stop(1000);
  });

  it('PermanentJobError skips the remaining attempts', async () => {
    let calls = 0;
    const worker = await start([
      handler(flaky, async () => {
        calls++;
        throw new PermanentJobError('410 Gone');
      }),
    ]);
    const before = (await queueStats(sql, jobs)).find((s) => s.queue === 'flaky')!.deadLetters;
    await jobs.enqueue(sql, flaky, { n: 7 });
    await until(
      () => queueStats(sql, jobs),
      (s) => s.find((q) => q.queue === 'flaky')!.deadLetters === before + 1,
    );
    expect(calls).toBe(1);
    await worker.stop(1000);
  });

  it('stop() drains: no new fetches, in-flight jobs finish before it resolves', async () => {
    const finished: number[] = [];
    const worker = await start([
      handler(
        slow,
        async ({ ms }) => {
          await sleep(ms);
          finished.push(ms);
        },
        { concurrency: 2 },
      ),
    ]);
    await jobs.enqueue(sql, slow, { ms: 400 });
    await until(
      async () => worker.inFlight(),
      (n) => n === 1,
    );
    await jobs.enqueue(sql, slow, { ms: 401 }, { startAfter: new Date(Date.now() + 300) });
    const stopped = Date.now();
    await worker.stop(5000);
    expect(finished).toEqual([400]);
    expect(Date.now() - stopped).toBeGreaterThan(200);
    const rows = await jobsIn('slow');
    expect(rows.map((r) => r.state).sort()).toEqual(['completed', 'created']);
  });

  it('stop() past its deadline fails the leftovers so they run again', async () => {
    const worker = await start([handler(slow, async ({ ms }) => sleep(ms))]);
    await sql`delete from jobstest_jobs.job where name = 'slow'`;
    await jobs.enqueue(sql, slow, { ms: 3000 });
    await until(
      async () => worker.inFlight(),
      (n) => n === 1,
    );
    await worker.stop(100);
    const rows = await jobsIn('slow');
    expect(rows.map((r) => r.state)).toEqual(['retry']);
  });
});

describe('worker throughput path', () => {
  it('runs many jobs concurrently, each once, and completes them all (batched completion)', async () => {
    await sql.begin(async (tx) => {
      for (let n = 0; n < 60; n++) await jobs.enqueue(tx, many, { n });
    });
    const seen: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const worker = await start([
      handler(
        many,
        async ({ n }) => {
          peak = Math.max(peak, ++inFlight);
          await sleep(5);
          seen.push(n);
          inFlight--;
        },
        { concurrency: 8 },
      ),
    ]);
    await until(
      () => queueStats(sql, jobs),
      (stats) => stats.find((s) => s.queue === 'many')!.completed === 60,
    );
    await worker.stop(1000);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(8);
  });

  it('holds at most its pool cap of connections (default 5) while 64 jobs run at once, failing and retrying', async () => {
    const perQueue = 40;
    await sql.begin(async (tx) => {
      for (const queue of bursts) for (let n = 0; n < perQueue; n++) await jobs.enqueue(tx, queue, { n });
    });
    let inFlight = 0;
    let peakInFlight = 0;
    const done = new Set<string>();
    const worker = await start(
      bursts.map((queue) =>
        handler(
          queue,
          async ({ n }, job) => {
            peakInFlight = Math.max(peakInFlight, ++inFlight);
            try {
              await sleep(100);
              // Every job fails its first attempt: failures are recorded in transactions of the
              // worker's pool, all at about the same time.
              if (job.attempt === 1) throw new Error('first attempt fails');
              done.add(`${queue.name}:${n}`);
            } finally {
              inFlight--;
            }
          },
          { concurrency: 16 },
        ),
      ),
    );
    // The worker's own pool by its application_name, sampled while the queues drain.
    let peakConnections = 0;
    const sampler = (async () => {
      while (done.size < bursts.length * perQueue) {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name = 'trellis-jobstest-jobs'`;
        peakConnections = Math.max(peakConnections, row!.n);
        await sleep(10);
      }
    })();
    await until(
      () => done.size,
      (n) => n === bursts.length * perQueue,
      60_000,
    );
    await sampler;
    await worker.stop(1000);
    // Concurrency is the handlers' (64 slots), not the pool's.
    expect(peakInFlight).toBeGreaterThan(DEFAULT_JOBS_POOL_MAX * 4);
    expect(peakConnections).toBeGreaterThan(0);
    expect(peakConnections).toBeLessThanOrEqual(DEFAULT_JOBS_POOL_MAX);
    const states = await sql`select state::text as state, count(*)::int as n from jobstest_jobs.job
      where name like 'burst-%' group by 1`;
    expect(states).toEqual([{ state: 'completed', n: bursts.length * perQueue }]);
  });
});

describe('processOnce', () => {
  it('concurrent duplicates of one message run the effect once', async () => {
    const db = drizzle(sql);
    let effects = 0;
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        processOnce(db, processed, { queue: 'q', messageId: 'm-1' }, async () => {
          effects++;
          await sleep(50);
          return 'done';
        }),
      ),
    );
    expect(effects).toBe(1);
    expect(results.filter((r) => !r.skipped)).toEqual([{ skipped: false, value: 'done' }]);
  });

  it('a failed effect leaves no record, so a retry runs it', async () => {
    const db = drizzle(sql);
    await expect(
      processOnce(db, processed, { queue: 'q', messageId: 'm-2' }, async () => {
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await processOnce(db, processed, { queue: 'q', messageId: 'm-2' }, async () => 1)).toEqual({
      skipped: false,
      value: 1,
    });
  });
});
