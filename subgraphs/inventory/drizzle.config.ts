import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['inventory'],
  migrations: { schema: 'inventory_migrations', table: '__migrations_inventory' },
});
