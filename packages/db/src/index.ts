// Postgres access shared by every subgraph: one postgres.js pool per service with
// statement and idle-in-transaction timeouts, Drizzle on top, migrations with a ledger per
// subgraph, and a start-up wait that backs off instead of crash-looping.
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Registry } from 'prom-client';
import { instrumentSql } from './instrument.ts';

// Start-up waits back off with the platform's one retry loop (full jitter).
export { type RetryOptions, retryWithBackoff } from '@trellis/resilience';
export { describeStatement, sanitizeStatement } from './instrument.ts';
export type Sql = postgres.Sql;
export { postgres };

export interface DatabaseOptions<TSchema extends Record<string, unknown>> {
  url: string;
  /** Drizzle table definitions, for the relational query API. */
  schema: TSchema;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** @default 10 */
  max?: number;
  /** Server-side cap on any single statement. @default 5000 */
  statementTimeoutMs?: number;
  /** A transaction left idle longer than this is killed by the server. @default 10000 */
  idleInTransactionTimeoutMs?: number;
  /** Called for every statement sent (statement counting in tests). */
  onQuery?: (query: string, params: readonly unknown[]) => void;
  /**
   * Where `trellis_db_query_duration_seconds` and `trellis_db_pool_connections` go. Every
   * statement also gets an OpenTelemetry span (instrument.ts) either way.
   */
  registry?: Registry;
}

export interface Database<TSchema extends Record<string, unknown>> {
  sql: Sql;
  db: PostgresJsDatabase<TSchema>;
  close(): Promise<void>;
}

export function createDatabase<TSchema extends Record<string, unknown>>(
  options: DatabaseOptions<TSchema>,
): Database<TSchema> {
  const { onQuery } = options;
  const max = options.max ?? 10;
  const raw = postgres(options.url, {
    max,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName,
      statement_timeout: options.statementTimeoutMs ?? 5000,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10000,
    },
    ...(onQuery ? { debug: (_connection: number, query: string, params: unknown[]) => onQuery(query, params) } : {}),
  });
  const sql = instrumentSql(raw, { database: databaseName(options.url), max, registry: options.registry });
  const db = drizzle(sql, { schema: options.schema });
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}

function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  } catch {
    return 'postgres';
  }
}

/**
 * Where a subgraph's migration ledger lives: outside its own schema (docs/toolchain.md), in
 * `<domain>_migrations`, a schema its database role owns (ops/postgres/init), so migrations
 * run with the subgraph's own least-privilege role.
 */
export function migrationLedger(domain: string): { migrationsSchema: string; migrationsTable: string } {
  return { migrationsSchema: `${domain}_migrations`, migrationsTable: `__migrations_${domain}` };
}

/** Where the ledger lived before it moved to `<domain>_migrations`. */
const LEGACY_LEDGER_SCHEMA = 'drizzle';

/**
 * Moves a ledger left in the legacy shared `drizzle` schema to `<domain>_migrations`, so an
 * existing database keeps its applied migrations instead of re-running them.
 */
async function moveLegacyLedger(sql: postgres.ReservedSql, domain: string): Promise<void> {
  const { migrationsSchema, migrationsTable } = migrationLedger(domain);
  const [row] = await sql<{ legacy: boolean; current: boolean }[]>`
    select to_regclass(${`"${LEGACY_LEDGER_SCHEMA}"."${migrationsTable}"`}) is not null as legacy,
           to_regclass(${`"${migrationsSchema}"."${migrationsTable}"`}) is not null as current`;
  if (!row?.legacy || row.current) return;
  // One atomic statement moves the table (and its id sequence); rerunnable if the first fails.
  await sql.unsafe(`create schema if not exists "${migrationsSchema}"`);
  await sql.unsafe(`alter table "${LEGACY_LEDGER_SCHEMA}"."${migrationsTable}" set schema "${migrationsSchema}"`);
}

// Any constant works; it only has to be the same in every process that migrates.
const MIGRATION_LOCK = 0x7472656c; // "trel"

/**
 * Applies the committed drizzle-kit migrations of one subgraph. Serialised across processes
 * with an advisory lock, so services starting together do not race on `CREATE SCHEMA`.
 */
export async function runMigrations(
  database: Database<Record<string, unknown>>,
  options: { domain: string; migrationsFolder: string },
): Promise<void> {
  const reserved = await database.sql.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await moveLegacyLedger(reserved, options.domain);
    await migrate(database.db, { migrationsFolder: options.migrationsFolder, ...migrationLedger(options.domain) });
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    reserved.release();
  }
}

/** True when the server answers a trivial query. */
export async function ping(sql: Sql): Promise<boolean> {
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  }
}

/** Database URL with another database name (for per-test databases). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
