// Tables of the products subgraph, in Postgres schema `products`. Pure: no connection.

import { cacheOutboxTable } from '@trellis/cache/outbox';
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const productsSchema = pgSchema('products');

export const products = productsSchema.table(
  'products',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    category: text('category').notNull(),
    priceCents: integer('price_cents').notNull(),
    weightGrams: integer('weight_grams').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // One index per (filter, order) path the schema offers; keyset pagination needs (key, id).
  (t) => [
    index('products_price_id_idx').on(t.priceCents, t.id),
    index('products_name_id_idx').on(t.name, t.id),
    index('products_created_at_id_idx').on(t.createdAt, t.id),
    index('products_category_price_id_idx').on(t.category, t.priceCents, t.id),
    index('products_category_name_id_idx').on(t.category, t.name, t.id),
    index('products_category_created_at_id_idx').on(t.category, t.createdAt, t.id),
    index('products_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
  ],
);

export type ProductRow = typeof products.$inferSelect;
/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(productsSchema);

export const schema = { products, cacheOutbox };
