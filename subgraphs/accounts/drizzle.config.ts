import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['accounts'],
  migrations: { schema: 'accounts_migrations', table: '__migrations_accounts' },
});
