// From pg-boss 10 to 12. pg-boss 12 migrates its schema in place only from version 25 (pg-boss
// 11) on; pg-boss 10 left version 24, and pg-boss 11 rewrote the schema with no migration from
// it (its release notes: run the new schema beside the old one and move the jobs). So, once,
// under a lock: the old schema is renamed `<schema>_pgboss10` (kept, with its history, for the
// operator to drop), pg-boss 12 installs `<schema>` afresh, and every job still to run —
// waiting, retrying, or active when its v10 worker stopped — and every dead letter waiting for
// a redrive moves across through pg-boss's insert(), with its id (idempotency keys derive it)
// and data (message id and trace context), in one transaction that also deletes it from the
// archive: a job is in exactly one of the two schemas at any time.
import type { PgBoss } from 'pg-boss';
import postgres from 'postgres';
import { type Jobs, pgBossDb } from './index.ts';

/** The oldest pg-boss schema version pg-boss 12 migrates from. */
const OLDEST_MIGRATABLE_SCHEMA = 25;

export function archiveSchemaName(schema: string): string {
  return `${schema}_pgboss10`;
}

const lockKey = (schema: string) => `trellis-jobs-upgrade:${schema}`;

/**
 * Renames a pg-boss 10 schema out of the way (`<schema>_pgboss10`) so pg-boss 12 can install
 * its own; returns the archive's name, or null when `schema` is absent or already newer.
 */
export async function setAsidePgBoss10Schema(databaseUrl: string, schema: string): Promise<string | null> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${lockKey(schema)}))`;
      const [table] = await tx`select to_regclass(${`${schema}.version`})::text as name`;
      if (!table?.name) return null;
      const [row] = await tx.unsafe(`select version from ${schema}.version`);
      if (!row || Number(row.version) >= OLDEST_MIGRATABLE_SCHEMA) return null;
      const archive = archiveSchemaName(schema);
      await tx.unsafe(`alter schema ${schema} rename to ${archive}`);
      return archive;
    });
  } finally {
    await sql.end();
  }
}

/**
 * Moves the jobs still to run (and the dead letters) of `jobs`' queues from the pg-boss 10
 * archive, when there is one, into the installed pg-boss 12 schema. Returns how many moved.
 * Idempotent (moved jobs leave the archive in the same transaction), so an install that
 * stopped between the rename and the move finishes it on its next run.
 */
export async function moveJobsFromArchive(databaseUrl: string, boss: PgBoss, jobs: Jobs): Promise<number> {
  const archive = archiveSchemaName(jobs.schema);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${lockKey(jobs.schema)}))`;
      const [table] = await tx`select to_regclass(${`${archive}.job`})::text as name`;
      if (!table?.name) return 0;
      let moved = 0;
      for (const name of jobs.queues.flatMap((queue) => [queue.name, queue.deadLetter])) {
        const rows = await tx.unsafe(
          `delete from ${archive}.job where name = $1 and state in ('created', 'retry', 'active')
           returning id, data, priority, singleton_key, state, start_after`,
          [name],
        );
        if (rows.length === 0) continue;
        await boss.insert(
          name,
          rows.map((row) => ({
            id: row.id as string,
            data: row.data as object,
            priority: row.priority as number,
            ...(row.singleton_key ? { singletonKey: row.singleton_key as string } : {}),
            // A retry keeps its backoff; a job its v10 worker left active runs again now.
            ...(row.state === 'active' ? {} : { startAfter: row.start_after as Date }),
          })),
          { db: pgBossDb(tx) },
        );
        moved += rows.length;
      }
      return moved;
    });
  } finally {
    await sql.end();
  }
}
