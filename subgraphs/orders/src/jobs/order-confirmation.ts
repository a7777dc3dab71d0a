// The order-confirmation job: POSTs the placed order to the webhook, signed, with the job's
// message id as its Idempotency-Key (delivery, signature, breaker and the processed record
// are @trellis/jobs/webhook's). Orders gives only the body: the committed order's facts.
import type { Database } from '@trellis/db';
import { type Webhook, webhookHandler } from '@trellis/jobs/webhook';
import { PermanentJobError } from '@trellis/jobs/worker';
import { asc, eq } from 'drizzle-orm';
import { orderLines, orders, processedMessages, type schema } from '../db/schema.ts';
import { orderConfirmation } from './queues.ts';

/** The confirmation body: immutable facts of the committed order, so every retry signs the same bytes. */
async function confirmationBody(database: Database<typeof schema>, orderId: number): Promise<string | null> {
  const [order] = await database.db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) return null;
  const lines = await database.db
    .select()
    .from(orderLines)
    .where(eq(orderLines.orderId, orderId))
    .orderBy(asc(orderLines.lineNo));
  return JSON.stringify({
    event: 'order.placed',
    orderId: String(order.id),
    buyerId: String(order.buyerId),
    currency: 'USD',
    total: order.totalCents / 100,
    lines: lines.map((line) => ({
      productId: String(line.productId),
      quantity: line.quantity,
      unitPrice: line.unitPriceCents / 100,
    })),
    placedAt: order.createdAt.toISOString(),
  });
}

export function orderConfirmationHandler(database: Database<typeof schema>, webhook: Webhook) {
  return webhookHandler(orderConfirmation, {
    webhook,
    db: database.db,
    processed: processedMessages,
    body: async ({ orderId }) => {
      const body = await confirmationBody(database, Number(orderId));
      if (body === null) throw new PermanentJobError(`order ${orderId} does not exist`);
      return body;
    },
    concurrency: 8,
  });
}
