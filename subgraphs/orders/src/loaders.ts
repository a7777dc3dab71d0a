// Per-request DataLoaders of the orders subgraph.
import type { Database } from '@trellis/db';
import { batchLoader, loaderByKey } from '@trellis/db/loaders';
import { nestedConnectionLoaders } from '@trellis/relay';
import type { ContextOf } from '@trellis/subgraph-kit';
import { asc, inArray } from 'drizzle-orm';
import {
  type InvoiceSummary,
  invoices,
  type OrderLineRow,
  type OrderRow,
  orderLines,
  orders,
  type schema,
} from './db/schema.ts';
import { orderPagesByBuyer } from './lists.ts';

export function createLoaders(database: Database<typeof schema>) {
  const { db } = database;
  return {
    orderById: loaderByKey<number, OrderRow>(
      (ids) => db.select().from(orders).where(inArray(orders.id, ids)),
      (row) => row.id,
    ),
    linesByOrderId: batchLoader<number, OrderLineRow[]>(async (ids) => {
      const rows = await db
        .select()
        .from(orderLines)
        .where(inArray(orderLines.orderId, ids as number[]))
        .orderBy(asc(orderLines.orderId), asc(orderLines.lineNo));
      const byOrder = new Map<number, OrderLineRow[]>(ids.map((id) => [id, []]));
      for (const row of rows) byOrder.get(row.orderId)?.push(row);
      return ids.map((id) => byOrder.get(id) ?? []);
    }),
    ordersByBuyer: nestedConnectionLoaders(orderPagesByBuyer(database)),
    /** Invoice status by order id (never the PDF bytes), one statement per request. */
    invoiceByOrderId: loaderByKey<number, InvoiceSummary>(
      (ids) =>
        db
          .select({ orderId: invoices.orderId, status: invoices.status, generatedAt: invoices.generatedAt })
          .from(invoices)
          .where(inArray(invoices.orderId, ids)),
      (row) => row.orderId,
    ),
  };
}
/** What every resolver receives (typed by codegen's contextType). */
export type Context = ContextOf<typeof createLoaders>;
