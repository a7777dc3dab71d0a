// Queue statistics straight from pg-boss's job table (one statement for every queue of a
// subgraph), and redrive: dead letters back to their queue.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { type Executor, type Jobs, PgBoss, pgBossDb } from './index.ts';

export interface QueueStats {
  queue: string;
  /** Waiting to run: created or retry (including retries whose backoff has not elapsed). */
  depth: number;
  /** Running now. */
  active: number;
  /** Age of the oldest waiting job; 0 when none waits. */
  oldestAgeSeconds: number;
  /** Failed for good (attempts used up), not yet archived. */
  failed: number;
  completed: number;
  /** Waiting in the queue's dead-letter queue. */
  deadLetters: number;
}

function sqlOf(executor: Executor) {
  return pgBossDb(executor);
}

export async function queueStats(executor: Executor, jobs: Jobs): Promise<QueueStats[]> {
  const names = jobs.queues.flatMap((queue) => [queue.name, queue.deadLetter]);
  const { rows } = await sqlOf(executor).executeSql(
    `select name, state::text as state, count(*)::int as count,
            coalesce(extract(epoch from now() - min(created_on)), 0)::float8 as oldest
       from ${jobs.schema}.job
      where name = any($1::text[])
      group by name, state`,
    [names],
  );
  const count = (name: string, states: string[]) =>
    rows.filter((r) => r.name === name && states.includes(r.state)).reduce((sum, r) => sum + Number(r.count), 0);
  return jobs.queues.map((queue) => ({
    queue: queue.name,
    depth: count(queue.name, ['created', 'retry']),
    active: count(queue.name, ['active']),
    oldestAgeSeconds: Math.max(
      0,
      ...rows
        .filter((r) => r.name === queue.name && (r.state === 'created' || r.state === 'retry'))
        .map((r) => Number(r.oldest)),
    ),
    failed: count(queue.name, ['failed']),
    completed: count(queue.name, ['completed']),
    deadLetters: count(queue.deadLetter, ['created', 'retry']),
  }));
}

/**
 * Moves up to `limit` dead letters of `queue` back to it, in one transaction: each is sent
 * again with the same data (same message id, so an effect already done is skipped) and a
 * fresh attempt budget, and removed from the dead-letter queue. Returns how many moved.
 */
export async function redrive(
  sql: postgres.Sql,
  jobs: Jobs,
  queueName: string,
  options: { limit?: number } = {},
): Promise<number> {
  const queue = jobs.queues.find((q) => q.name === queueName);
  if (!queue) throw new Error(`unknown queue "${queueName}" (${jobs.queues.map((q) => q.name).join(', ')})`);
  const boss = new PgBoss({ schema: jobs.schema, db: { executeSql: () => Promise.reject(new Error('no db')) } });
  return sql.begin(async (tx): Promise<number> => {
    const db = pgBossDb(tx);
    const { rows } = await db.executeSql(
      `select id, data from ${jobs.schema}.job
        where name = $1 and state < 'active'
        order by created_on limit $2 for update skip locked`,
      [queue.deadLetter, options.limit ?? 1000],
    );
    for (const row of rows) {
      await boss.send(queue.name, row.data, { db, id: randomUUID() } as PgBoss.SendOptions);
    }
    if (rows.length > 0)
      await boss.deleteJob(
        queue.deadLetter,
        rows.map((r) => r.id),
        { db } as never,
      );
    return rows.length;
  });
}
