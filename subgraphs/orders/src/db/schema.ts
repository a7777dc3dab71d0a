// Tables of the orders subgraph, in Postgres schema `orders`. Pure: no connection.
import { processedMessagesTable } from '@trellis/jobs/schema';
import {
  bigint,
  index,
  integer,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

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
    /** placeOrder's idempotency key (null for seeded orders): unique per buyer. */
    idempotencyKey: text('idempotency_key'),
    /** sha256 of the placeOrder input lines: a reused key with other lines is refused. */
    requestHash: text('request_hash'),
  },
  (t) => [
    uniqueIndex('orders_buyer_idempotency_key_idx').on(t.buyerId, t.idempotencyKey),
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

/** Handler idempotency (@trellis/jobs): one record per processed job message. */
export const processedMessages = processedMessagesTable(ordersSchema);

export type OrderRow = typeof orders.$inferSelect;
export type OrderLineRow = typeof orderLines.$inferSelect;

/** An entity owned by another subgraph, by key (User, Product). */
export interface EntityRef {
  id: string;
}

export const schema = { orders, orderLines, orderStatus, processedMessages };
