// The job queues the orders subgraph owns (pg-boss schema `orders_jobs`). Payloads carry ids
// only: handlers read the committed rows, so a job never holds stale or large data.
import { createJobs, defineQueue } from '@trellis/jobs';
import { z } from 'zod';
import { retryEnv } from '../env.ts';

const retry = retryEnv();

/** Sends the order confirmation to the webhook (src/jobs/notification.ts). */
export const orderConfirmation = defineQueue({
  name: 'order-confirmation',
  payload: z.object({ orderId: z.string().regex(/^[1-9]\d{0,14}$/) }).strict(),
  maxPayloadBytes: 1024,
  retry: {
    attempts: retry.NOTIFY_ATTEMPTS,
    baseDelayMs: retry.NOTIFY_RETRY_BASE_MS,
    maxDelayMs: retry.NOTIFY_RETRY_MAX_MS,
  },
  expireInSeconds: retry.NOTIFY_EXPIRE_S,
});

/** Renders the order's invoice PDF (src/jobs/invoice.ts). */
export const invoiceQueue = defineQueue({
  name: 'invoice',
  payload: z.strictObject({ orderId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
  maxPayloadBytes: 256,
  retry: {
    attempts: retry.INVOICE_ATTEMPTS,
    baseDelayMs: retry.INVOICE_RETRY_BASE_MS,
    maxDelayMs: retry.INVOICE_RETRY_MAX_MS,
  },
  expireInSeconds: retry.INVOICE_EXPIRE_S,
});

export const jobs = createJobs({ domain: 'orders', queues: [orderConfirmation, invoiceQueue] });
