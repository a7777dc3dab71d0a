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

export const jobs = createJobs({ domain: 'orders', queues: [orderConfirmation] });
