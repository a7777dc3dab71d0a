// drizzle-kit's configuration of a subgraph (its drizzle.config.ts is one call): the Drizzle
// tables in src/db/schema.ts, committed SQL in migrations/, only the subgraph's own Postgres
// schema, and the migration ledger outside it (migrationLedger in @trellis/db).
import { migrationLedger } from '@trellis/db';

/** What drizzle-kit reads from a subgraph's drizzle.config.ts (drizzle-kit's `Config`, PostgreSQL). */
export interface SubgraphDrizzleConfig {
  dialect: 'postgresql';
  schema: string;
  out: string;
  schemaFilter: string[];
  migrations: { schema: string; table: string };
}

/** The drizzle-kit config of subgraph `domain`, relative to its package folder (drizzle-kit's cwd). */
export function drizzleConfig(domain: string): SubgraphDrizzleConfig {
  const { migrationsSchema, migrationsTable } = migrationLedger(domain);
  return {
    dialect: 'postgresql',
    schema: './src/db/schema.ts',
    out: './migrations',
    schemaFilter: [domain],
    migrations: { schema: migrationsSchema, table: migrationsTable },
  };
}
