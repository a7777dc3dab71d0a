import { defineConfig } from 'drizzle-kit';

// The gateway's usage tables (src/usage/schema.ts), with their own ledger like every owner.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/usage/schema.ts',
  out: './migrations',
  schemaFilter: ['gateway_usage'],
  migrations: { schema: 'gateway_usage_migrations', table: '__migrations_gateway_usage' },
});
