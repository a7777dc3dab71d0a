import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['reviews'],
  migrations: { schema: 'reviews_migrations', table: '__migrations_reviews' },
});
