// The job queues the orders subgraph owns (pg-boss schema `orders_jobs`). Payloads carry ids
// only: handlers read the committed rows, so a job never holds stale or large data.
import { createJobs, defineQueue } from '@trellis/jobs';
import { queueRetrySettings } from '@trellis/subgraph-kit/env';
import { z } from 'zod';
import { retryEnv } from '../env.ts';

const retry = retryEnv();

/** Sends the order confirmation to the webhook (src/jobs/order-confirmation.ts). */
export const orderConfirmation = defineQueue({
  name: 'order-confirmation',
  payload: z.object({ orderId: z.string().regex(/^[1-9]\d{0,14}$/) }).strict(),
  maxPayloadBytes: 1024,
  ...queueRetrySettings(retry, 'NOTIFY'),
});

/** Renders the order's invoice PDF (src/jobs/invoice.ts). */
export const invoiceQueue = defineQueue({
  name: 'invoice',
  payload: z.strictObject({ orderId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
  maxPayloadBytes: 256,
  ...queueRetrySettings(retry, 'INVOICE'),
});

export const jobs = createJobs({ domain: 'orders', queues: [orderConfirmation, invoiceQueue] });
