// The jobs a placed order causes, enqueued in placeOrder's write transaction (one place to
// add a job: they commit, or roll back, with the order).
import { type Executor, pgBossDb } from '@trellis/jobs';
import { invoiceQueue, jobs, orderConfirmation } from './queues.ts';

export async function enqueueOrderPlaced(tx: Executor, orderId: number): Promise<void> {
  // Keyed by order: even a replayed transaction cannot enqueue a second confirmation.
  // Issued together: postgres.js pipelines them on the transaction's connection (one round
  // trip instead of one per statement); they are independent inserts of one transaction.
  await Promise.all([
    jobs.enqueue(tx, orderConfirmation, { orderId: String(orderId) }, { key: `order-placed:${orderId}` }),
    requestInvoice(tx, orderId),
  ]);
}

/** Inside the order's write transaction: a PENDING invoice and its job (one per order). */
export async function requestInvoice(tx: Executor, orderId: number): Promise<void> {
  // Pipelined like the other jobs of the order (enqueueOrderPlaced): independent inserts.
  await Promise.all([
    pgBossDb(tx).executeSql('insert into orders.invoices (order_id) values ($1) on conflict do nothing', [orderId]),
    jobs.enqueue(tx, invoiceQueue, { orderId }, { key: `invoice:${orderId}` }),
  ]);
}
