// The transactional outbox of cache invalidations. Every subgraph's Drizzle schema gets one
// table from `cacheOutboxTable`; a write calls `recordInvalidations` inside its transaction,
// so the rows exist if and only if the write committed. A relay (started by subgraph-kit)
// publishes pending rows after commit — woken by LISTEN/NOTIFY, with a poll as fallback —
// and deletes them only once published: a process dying right after the commit loses nothing,
// the next relay publishes them (at least once; purging is idempotent).

import { registeredMetric } from '@trellis/telemetry/metrics';
import { sql as raw } from 'drizzle-orm';
import { bigint, getTableConfig, type PgDatabase, type PgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { InvalidationBatch, Publisher } from './invalidation.ts';
import { type EntityRef, entityTag } from './tags.ts';

export type { EntityRef, InvalidationBatch, Publisher } from './invalidation.ts';

/** The outbox table in a subgraph's own Postgres schema (its migration creates it). */
export function cacheOutboxTable(schema: PgSchema) {
  // The relay reads in id order: the primary key is the only index it needs.
  return schema.table('cache_outbox', {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    typename: text('typename').notNull(),
    entityId: text('entity_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  });
}
export type CacheOutboxTable = ReturnType<typeof cacheOutboxTable>;

/** NOTIFY channel of one outbox (Postgres identifiers: schema names are plain words here). */
export const outboxChannel = (table: CacheOutboxTable) => `trellis_cache_outbox_${getTableConfig(table).schema}`;

// biome-ignore lint/suspicious/noExplicitAny: any Drizzle Postgres database or transaction
type Tx = PgDatabase<any, any, any>;

/**
 * Records that this transaction changes `entities`: call it INSIDE the write's transaction.
 * Nothing is published unless the transaction commits (NOTIFY is delivered at commit too).
 */
export async function recordInvalidations(tx: Tx, outbox: CacheOutboxTable, entities: readonly EntityRef[]) {
  if (entities.length === 0) return;
  const seen = new Set<string>();
  const rows = [];
  for (const { typename, id } of entities) {
    const key = entityTag(typename, String(id));
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ typename, entityId: String(id) });
  }
  await tx.insert(outbox).values(rows);
  await tx.execute(raw`select pg_notify(${outboxChannel(outbox)}, '')`);
}

export interface OutboxRelayOptions {
  /** The subgraph's postgres.js pool (the relay holds one LISTEN connection of its own). */
  sql: postgres.Sql;
  table: CacheOutboxTable;
  publisher: Publisher;
  /** Fallback poll when no NOTIFY arrives (lost while the relay was down, a failed publish). @default 1000 */
  pollMs?: number;
  /** Rows per publish. @default 500 */
  batchSize?: number;
  registry?: Registry;
  onError?: (error: unknown) => void;
}

export interface OutboxRelay {
  /** Publishes everything pending now; resolves to the number of rows published. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const { sql, publisher } = options;
  const config = getTableConfig(options.table);
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const table = `${quote(config.schema ?? 'public')}.${quote(config.name)}`;
  const batchSize = options.batchSize ?? 500;
  const onError = options.onError ?? (() => {});
  const registry = options.registry;
  const pending =
    registry &&
    registeredMetric(
      registry,
      'trellis_cache_outbox_pending',
      () =>
        new Gauge({
          name: 'trellis_cache_outbox_pending',
          help: 'Cache invalidations committed, not yet published',
          registers: [registry],
        }),
    );
  const published =
    registry &&
    registeredMetric(
      registry,
      'trellis_cache_outbox_published_total',
      () =>
        new Counter({
          name: 'trellis_cache_outbox_published_total',
          help: 'Cache invalidations published by the outbox relay',
          registers: [registry],
        }),
    );
  published?.inc(0);

  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;

  async function drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      // No lock, no transaction around the publish (nothing slow inside a transaction): two
      // relays may publish a row twice, which is harmless; a row is deleted only once published.
      const rows = await sql.unsafe<{ id: string; typename: string; entity_id: string }[]>(
        `select id, typename, entity_id from ${table} order by id limit ${batchSize}`,
      );
      if (rows.length === 0) break;
      const batch: InvalidationBatch = { entities: rows.map((r) => ({ typename: r.typename, id: r.entity_id })) };
      await publisher.publish(batch);
      await sql.unsafe(`delete from ${table} where id = any($1::bigint[])`, [rows.map((r) => r.id)]);
      published?.inc(rows.length);
      total += rows.length;
      if (rows.length < batchSize) break;
    }
    if (pending) {
      const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
      pending.set(row?.n ?? 0);
    }
    return total;
  }

  /** One drain at a time; a wake-up during a drain runs one more after it. */
  function drain(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await drainOnce();
        } while (again && !stopped);
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  }
  const wake = () => {
    if (!stopped) drain().catch(onError);
  };

  const listener = await sql.listen(outboxChannel(options.table), wake, wake).catch((error) => {
    // Without LISTEN the poll still publishes everything, only later.
    onError(error);
    return undefined;
  });
  const poll = setInterval(wake, options.pollMs ?? 1000);
  poll.unref();
  wake();

  return {
    drain,
    async stop() {
      stopped = true;
      clearInterval(poll);
      await running?.catch(() => {});
      await listener?.unlisten().catch(() => {});
      await publisher.close();
    },
  };
}
