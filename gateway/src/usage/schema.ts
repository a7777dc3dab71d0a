// The gateway's usage tables, in its own Postgres schema `gateway_usage` (Drizzle, pure: no
// connection). Every write is an upsert that adds (counts) or widens (last seen), so any
// number of gateway replicas write the same rows without conflict.
import { sql } from 'drizzle-orm';
import { bigint, index, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const usageSchema = pgSchema('gateway_usage');

/** One row per operation signature ever recorded (within retention). */
export const operations = usageSchema.table(
  'operations',
  {
    hash: text('hash').primaryKey(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    signature: text('signature').notNull(),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull(),
  },
  (t) => [index('operations_last_seen_idx').on(t.lastSeen)],
);

/** The schema coordinates each operation touches (`Type.field`, `Type.field(arg:)`, `Type`, `Enum.VALUE`). */
export const operationCoordinates = usageSchema.table(
  'operation_coordinates',
  {
    hash: text('hash')
      .notNull()
      .references(() => operations.hash, { onDelete: 'cascade' }),
    coordinate: text('coordinate').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.hash, t.coordinate] }),
    index('operation_coordinates_coordinate_idx').on(t.coordinate),
  ],
);

/**
 * Counts per time bucket, operation and client. `client_name`/`client_version` are '' when the
 * client sent none (or an invalid one). `latency_ms` holds one count per bucket of
 * LATENCY_BOUNDS_MS (the last is everything above), added element by element on upsert.
 */
export const operationUsage = usageSchema.table(
  'operation_usage',
  {
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    hash: text('hash').notNull(),
    clientName: text('client_name').notNull(),
    clientVersion: text('client_version').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull(),
    errors: bigint('errors', { mode: 'number' }).notNull(),
    latencyMs: bigint('latency_ms', { mode: 'number' }).array().notNull().default(sql`'{}'`),
  },
  (t) => [
    primaryKey({ columns: [t.bucket, t.hash, t.clientName, t.clientVersion] }),
    index('operation_usage_hash_idx').on(t.hash, t.bucket),
  ],
);

/** Upper bounds (ms) of the latency buckets; one more bucket counts everything slower. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;
