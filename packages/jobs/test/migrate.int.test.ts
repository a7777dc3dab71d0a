// A database pg-boss 10 left behind (its schema, queues, a waiting job and a dead letter)
// taken over by this package's pg-boss 12. pg-boss 12 refuses to migrate a pg-boss 10 schema
// (version 24; it migrates from 25 on), so installJobs sets it aside as `<schema>_pgboss10`,
// installs pg-boss 12 and moves the jobs still to run: the waiting job then runs on the new
// worker with its id, data and message id, and the old dead letter is redriven.
import { postgres } from '@trellis/db';
import { createTestDatabase, type TestDatabase, until } from '@trellis/testing';
import PgBoss10 from 'pg-boss-v10';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { archiveSchemaName, createJobs, defineQueue, installJobs, queueStats, redrive } from '../src/index.ts';
import { handler, startWorker } from '../src/worker.ts';

const mail = defineQueue({ name: 'mail', payload: z.object({ to: z.string() }), retry: { attempts: 2 } });
const jobs = createJobs({ domain: 'migrated', queues: [mail] });

let database: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_jobs_migrate');
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

it('installJobs migrates a pg-boss 10 schema; its waiting jobs run and its dead letters redrive', async () => {
  // What pg-boss 10 (and the 10-era installJobs) left: the queue with its dead-letter queue,
  // a job waiting to run, and a dead letter.
  const old = new PgBoss10({ connectionString: database.url, schema: jobs.schema, max: 1, supervise: false });
  old.on('error', () => {});
  await old.start();
  await old.createQueue(mail.deadLetter, { name: mail.deadLetter, retryLimit: 0 });
  await old.createQueue(mail.name, { name: mail.name, retryLimit: 1, deadLetter: mail.deadLetter });
  const waitingId = await old.send(mail.name, { to: 'waiting@example.com', _msg: 'm-waiting' });
  await old.send(mail.deadLetter, { to: 'dead@example.com', _msg: 'm-dead' });
  const [v10] = await sql.unsafe(`select version from ${jobs.schema}.version`);
  await old.stop({ graceful: false, close: true });
  expect(v10!.version).toBeLessThan(26);

  await installJobs({ databaseUrl: database.url, jobs });
  await installJobs({ databaseUrl: database.url, jobs }); // idempotent: nothing moves twice
  const [v12] = await sql.unsafe(`select version from ${jobs.schema}.version`);
  expect(v12!.version).toBeGreaterThan(v10!.version);
  expect((await queueStats(sql, jobs))[0]).toMatchObject({ queue: 'mail', depth: 1, deadLetters: 1 });
  const [moved] = await sql.unsafe(`select id from ${jobs.schema}.job where name = 'mail'`);
  expect(moved!.id).toBe(waitingId);
  // The archive keeps the history, and none of the moved jobs.
  const [left] = await sql.unsafe(
    `select count(*)::int as n from ${archiveSchemaName(jobs.schema)}.job where state in ('created', 'retry', 'active')`,
  );
  expect(left!.n).toBe(0);

  const seen: { to: string; messageId: string }[] = [];
  const worker = await startWorker({
    databaseUrl: database.url,
    jobs,
    pollIntervalMs: 50,
    handlers: [handler(mail, async ({ to }, job) => void seen.push({ to, messageId: job.messageId }))],
  });
  try {
    await until(
      async () => seen.length,
      (n) => n === 1,
    );
    expect(seen).toEqual([{ to: 'waiting@example.com', messageId: 'm-waiting' }]);
    expect(await redrive(sql, jobs, mail.name)).toBe(1);
    await until(
      async () => seen.length,
      (n) => n === 2,
    );
    expect(seen[1]).toEqual({ to: 'dead@example.com', messageId: 'm-dead' });
  } finally {
    await worker.stop(1000);
  }
});
