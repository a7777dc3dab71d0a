import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['products'],
  migrations: { schema: 'products_migrations', table: '__migrations_products' },
});
