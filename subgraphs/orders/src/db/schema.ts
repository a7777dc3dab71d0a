// Tables of the orders subgraph, in Postgres schema `orders`. Pure: no connection.

import { cacheOutboxTable } from '@trellis/cache/outbox';
import { bigint, index, integer, pgSchema, primaryKey, smallint, timestamp } from 'drizzle-orm/pg-core';

export const ordersSchema = pgSchema('orders');

export const orderStatus = ordersSchema.enum('order_status', ['PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED']);

export const orders = ordersSchema.table(
  'orders',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    buyerId: bigint('buyer_id', { mode: 'number' }).notNull(),
    status: orderStatus('status').notNull().default('PENDING'),
    totalCents: integer('total_cents').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('orders_buyer_created_at_id_idx').on(t.buyerId, t.createdAt, t.id),
    index('orders_buyer_total_id_idx').on(t.buyerId, t.totalCents, t.id),
    index('orders_buyer_status_created_at_id_idx').on(t.buyerId, t.status, t.createdAt, t.id),
  ],
);

export const orderLines = ordersSchema.table(
  'order_lines',
  {
    orderId: bigint('order_id', { mode: 'number' })
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    lineNo: smallint('line_no').notNull(),
    productId: bigint('product_id', { mode: 'number' }).notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.lineNo] })],
);

export type OrderRow = typeof orders.$inferSelect;
export type OrderLineRow = typeof orderLines.$inferSelect;

/** An entity owned by another subgraph, by key (User, Product). */
export interface EntityRef {
  id: string;
}

/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(ordersSchema);

export const schema = { orders, orderLines, orderStatus, cacheOutbox };
