// Tables of the inventory subgraph, in Postgres schema `inventory`. Pure: no connection.

import { cacheOutboxTable } from '@trellis/cache/outbox';
import { sql } from 'drizzle-orm';
import { bigint, check, integer, pgSchema, timestamp } from 'drizzle-orm/pg-core';

export const inventorySchema = pgSchema('inventory');

/** Units on hand per product (the product itself lives in the products subgraph). */
export const stock = inventorySchema.table(
  'stock',
  {
    productId: bigint('product_id', { mode: 'number' }).primaryKey(),
    quantity: integer('quantity').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('stock_quantity_non_negative', sql`${t.quantity} >= 0`)],
);

export type StockRow = typeof stock.$inferSelect;

/** A Product as inventory sees it: its key plus the @requires fields when the gateway sends them. */
export interface ProductRef {
  id: string;
  price?: number | null;
  weight?: number | null;
}

/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(inventorySchema);

export const schema = { stock, cacheOutbox };
