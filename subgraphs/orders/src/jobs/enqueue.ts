// The jobs a placed order causes, enqueued in placeOrder's write transaction (one place to
// add a job: they commit, or roll back, with the order).
import type { Executor } from '@trellis/jobs';
import { requestInvoice } from './invoice.ts';
import { jobs, orderConfirmation } from './queues.ts';

export async function enqueueOrderPlaced(tx: Executor, orderId: number): Promise<void> {
  // Keyed by order: even a replayed transaction cannot enqueue a second confirmation.
  // Issued together: postgres.js pipelines them on the transaction's connection (one round
  // trip instead of one per statement); they are independent inserts of one transaction.
  await Promise.all([
    jobs.enqueue(tx, orderConfirmation, { orderId: String(orderId) }, { key: `order-placed:${orderId}` }),
    requestInvoice(tx, orderId),
  ]);
}
