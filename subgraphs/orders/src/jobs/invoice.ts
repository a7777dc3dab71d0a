// Document processing: the `invoice` job renders an order's invoice PDF once. placeOrder
// calls requestInvoice() (enqueue.ts) in its transaction (PENDING row + job); the handler
// renders and stores the PDF in the same transaction as its processed-message record, so
// neither a redelivery nor a duplicate job renders twice. After the last attempt the invoice is
// FAILED (the job is dead-lettered; a redrive renders it and makes it READY).
import { recordInvalidations } from '@trellis/cache/outbox';
import type { Database } from '@trellis/db';
import { processOnce } from '@trellis/jobs';
import { handler, type JobInfo, PermanentJobError } from '@trellis/jobs/worker';
import { and, asc, eq, ne } from 'drizzle-orm';
import { cacheOutbox, invoices, orderLines, orders, processedMessages, type schema } from '../db/schema.ts';
import { renderInvoicePdf } from '../invoices/render.ts';
import { invoiceQueue } from './queues.ts';

export interface InvoiceHandlerOptions {
  /** @default renderInvoicePdf */
  render?: typeof renderInvoicePdf;
}

/** Renders and stores order `orderId`'s invoice unless it is READY; returns whether it rendered. */
export async function produceInvoice(
  database: Database<typeof schema>,
  orderId: number,
  job: Pick<JobInfo, 'queue' | 'messageId'>,
  render: typeof renderInvoicePdf = renderInvoicePdf,
): Promise<boolean> {
  const result = await processOnce(database.db, processedMessages, job, async (tx) => {
    // The row lock serialises this with any other run for the same order.
    const [invoice] = await tx
      .select({ status: invoices.status })
      .from(invoices)
      .where(eq(invoices.orderId, orderId))
      .for('update');
    if (invoice?.status === 'READY') return false;
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId));
    if (!order) throw new PermanentJobError(`order ${orderId} does not exist`);
    const lines = await tx
      .select()
      .from(orderLines)
      .where(eq(orderLines.orderId, orderId))
      .orderBy(asc(orderLines.lineNo));
    const issuedAt = new Date();
    const pdf = await render({
      orderId,
      buyerId: order.buyerId,
      placedAt: order.createdAt,
      lines,
      totalCents: order.totalCents,
      issuedAt,
    });
    const ready = { status: 'READY' as const, pdf, generatedAt: issuedAt, error: null, updatedAt: issuedAt };
    await tx
      .insert(invoices)
      .values({ orderId, ...ready })
      .onConflictDoUpdate({ target: invoices.orderId, set: ready });
    // Cached responses holding this Order (PRIVATE, up to 10 s) still say PENDING.
    await recordInvalidations(tx, cacheOutbox, [{ typename: 'Order', id: String(orderId) }]);
    return true;
  });
  return !result.skipped && result.value;
}

export function invoiceHandler(database: Database<typeof schema>, options: InvoiceHandlerOptions = {}) {
  return handler(
    invoiceQueue,
    async ({ orderId }, job) => {
      try {
        await produceInvoice(database, orderId, job, options.render);
      } catch (error) {
        const last = error instanceof PermanentJobError || job.attempt >= invoiceQueue.retry.attempts;
        if (last) {
          // The job is about to be dead-lettered: say so on the invoice (never over a READY one).
          await database.db.transaction(async (tx) => {
            await tx
              .update(invoices)
              .set({ status: 'FAILED', error: String((error as Error)?.message ?? error), updatedAt: new Date() })
              .where(and(eq(invoices.orderId, orderId), ne(invoices.status, 'READY')));
            await recordInvalidations(tx, cacheOutbox, [{ typename: 'Order', id: String(orderId) }]);
          });
        }
        throw error;
      }
    },
    { concurrency: 4 },
  );
}
