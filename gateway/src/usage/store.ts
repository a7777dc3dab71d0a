// Writes aggregated usage to `gateway_usage` in one short transaction per flush, and applies
// retention. Rows are written in key order, so replicas flushing the same rows at once wait
// for each other instead of deadlocking; every write adds to what is there (upsert-add).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, type Database, runMigrations } from '@trellis/db';
import { sql } from 'drizzle-orm';
import type { Registry } from 'prom-client';
import type { UsageBatch } from './aggregator.ts';
import { USAGE_DOMAIN } from './domain.ts';
import * as schema from './schema.ts';

export { USAGE_DOMAIN };
/** gateway/migrations, from the sources (src/usage/) or the bundle (dist/main.mjs). */
export const USAGE_MIGRATIONS =
  ['../../migrations', '../migrations']
    .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
    .find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) ??
  fileURLToPath(new URL('../../migrations', import.meta.url));

/** Rows per INSERT statement (Postgres allows 65535 parameters per statement). */
const CHUNK = 1000;

export interface UsageStore {
  /** Writes a batch; returns the rows written. Throws when the database refuses or is away. */
  write(batch: UsageBatch): Promise<number>;
  /** Deletes usage older than `retentionDays` and operations not seen since. */
  prune(retentionDays: number): Promise<void>;
  close(): Promise<void>;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Applies the usage migrations (own ledger `gateway_usage_migrations.__migrations_gateway_usage`). */
export async function migrateUsage(database: Database<Record<string, unknown>>): Promise<void> {
  await runMigrations(database, { domain: USAGE_DOMAIN, migrationsFolder: USAGE_MIGRATIONS });
}

export function createUsageStore(options: { url: string; registry?: Registry }): UsageStore {
  const database = createDatabase({
    url: options.url,
    schema,
    applicationName: 'trellis-gateway-usage',
    // Two: migrating holds one (the advisory lock) while drizzle's migrator uses the other.
    max: 2,
    statementTimeoutMs: 10_000,
    ...(options.registry ? { registry: options.registry } : {}),
  });
  let migrated: Promise<void> | undefined;
  // Coordinates are written once per operation and process (they never change for a hash).
  let described = new Set<string>();
  const ensureMigrated = () => {
    migrated ??= migrateUsage(database).catch((error) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  };
  return {
    async write(batch) {
      await ensureMigrated();
      const operations = [...batch.operations.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
      const coordinates = operations
        .filter((op) => !described.has(op.hash))
        .flatMap((op) => op.coordinates.map((coordinate) => ({ hash: op.hash, coordinate })));
      const entries = [...batch.entries].sort((a, b) =>
        a.bucket !== b.bucket
          ? a.bucket - b.bucket
          : a.hash !== b.hash
            ? a.hash < b.hash
              ? -1
              : 1
            : `${a.clientName}\n${a.clientVersion}` < `${b.clientName}\n${b.clientVersion}`
              ? -1
              : 1,
      );
      let rows = 0;
      await database.db.transaction(async (tx) => {
        for (const chunk of chunks(operations)) {
          await tx
            .insert(schema.operations)
            .values(
              chunk.map((op) => ({
                hash: op.hash,
                name: op.name,
                type: op.type,
                signature: op.signature,
                firstSeen: new Date(op.firstSeen),
                lastSeen: new Date(op.lastSeen),
              })),
            )
            .onConflictDoUpdate({
              target: schema.operations.hash,
              set: {
                firstSeen: sql`least(${schema.operations.firstSeen}, excluded.first_seen)`,
                lastSeen: sql`greatest(${schema.operations.lastSeen}, excluded.last_seen)`,
              },
            });
          rows += chunk.length;
        }
        for (const chunk of chunks(coordinates)) {
          await tx.insert(schema.operationCoordinates).values(chunk).onConflictDoNothing();
          rows += chunk.length;
        }
        for (const chunk of chunks(entries)) {
          await tx
            .insert(schema.operationUsage)
            .values(chunk.map((entry) => ({ ...entry, bucket: new Date(entry.bucket) })))
            .onConflictDoUpdate({
              target: [
                schema.operationUsage.bucket,
                schema.operationUsage.hash,
                schema.operationUsage.clientName,
                schema.operationUsage.clientVersion,
              ],
              set: {
                requests: sql`${schema.operationUsage.requests} + excluded.requests`,
                errors: sql`${schema.operationUsage.errors} + excluded.errors`,
                latencyMs: sql`array(select coalesce(a, 0) + coalesce(b, 0) from unnest(${schema.operationUsage.latencyMs}, excluded.latency_ms) as t(a, b))`,
              },
            });
          rows += chunk.length;
        }
      });
      for (const op of operations) described.add(op.hash);
      if (described.size > 50_000) described = new Set();
      return rows;
    },
    async prune(retentionDays) {
      await ensureMigrated();
      const cutoff = sql`now() - make_interval(days => ${retentionDays})`;
      await database.db.delete(schema.operationUsage).where(sql`${schema.operationUsage.bucket} < ${cutoff}`);
      await database.db.delete(schema.operations).where(sql`${schema.operations.lastSeen} < ${cutoff}`);
      // A pruned operation seen again must get its coordinates again.
      described = new Set();
    },
    close: () => database.close(),
  };
}
