// Queue statistics read from pg-boss's job table (one statement for every queue of a subgraph:
// pg-boss's getQueueStats() is per queue and reads a snapshot its monitor refreshes), and
// redrive: dead letters back to their queue through pg-boss's own redrive().
import type postgres from 'postgres';
import { type Executor, type Jobs, pgBossDb } from './index.ts';

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
 * Moves up to `limit` dead letters of `queue` back to it, in one transaction (pg-boss's
 * redrive): each is sent again with the same data (same message id, so an effect already done
 * is skipped) and a fresh attempt budget, and removed from the dead-letter queue. Returns how
 * many moved. Also moves dead letters a pg-boss 10 left (they record no source queue).
 */
export async function redrive(
  sql: postgres.Sql,
  jobs: Jobs,
  queueName: string,
  options: { limit?: number } = {},
): Promise<number> {
  const queue = jobs.queues.find((q) => q.name === queueName);
  if (!queue) throw new Error(`unknown queue "${queueName}" (${jobs.queues.map((q) => q.name).join(', ')})`);
  return sql.begin((tx) =>
    jobs.withBoss(tx, (boss, db) =>
      boss.redrive(queue.deadLetter, { db, destination: queue.name, limit: options.limit ?? 1000 }),
    ),
  );
}
