// The order-confirmation job: POSTs the placed order to the webhook with an Idempotency-Key
// (the job's message id, stable across retries and redrives) and an HMAC-SHA256 signature of
// the body (`x-trellis-signature: sha256=<hex>`). An opossum circuit breaker guards the
// endpoint: once it is open, jobs fail at once (no request) and back off; a 4xx other than
// 408/429 cannot succeed later and is dead-lettered at once. The delivery is recorded as
// processed after the receiver accepted it; a crash in between re-sends with the same key.
import { createHmac } from 'node:crypto';
import type { Database } from '@trellis/db';
import { isProcessed, markProcessed } from '@trellis/jobs';
import { handler, type JobHandler, PermanentJobError } from '@trellis/jobs/worker';
import { asc, eq } from 'drizzle-orm';
import CircuitBreaker from 'opossum';
import { request } from 'undici';
import { orderLines, orders, processedMessages, type schema } from '../db/schema.ts';
import { orderConfirmation } from './queues.ts';

export const SIGNATURE_HEADER = 'x-trellis-signature';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface NotificationOptions {
  database: Database<typeof schema>;
  url: string;
  secret: string;
  timeoutMs: number;
  breaker: { errorThresholdPercentage: number; volumeThreshold: number; resetTimeout: number };
  onBreakerState?: (state: 'open' | 'half_open' | 'closed') => void;
}

class WebhookRejected extends PermanentJobError {}

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

export function notificationHandler(options: NotificationOptions): JobHandler {
  const deliver = async (body: string, key: string): Promise<void> => {
    const response = await request(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key,
        [SIGNATURE_HEADER]: signBody(options.secret, body),
      },
      body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body.dump();
    if (response.statusCode >= 200 && response.statusCode < 300) return;
    const retryable = response.statusCode >= 500 || response.statusCode === 408 || response.statusCode === 429;
    if (!retryable) throw new WebhookRejected(`webhook refused the confirmation: HTTP ${response.statusCode}`);
    throw new Error(`webhook answered HTTP ${response.statusCode}`);
  };
  const breaker = new CircuitBreaker(deliver, {
    timeout: false, // undici bounds each request
    errorThresholdPercentage: options.breaker.errorThresholdPercentage,
    volumeThreshold: options.breaker.volumeThreshold,
    resetTimeout: options.breaker.resetTimeout,
    // A refusal is the receiver working as designed, not the endpoint failing.
    errorFilter: (error: unknown) => error instanceof WebhookRejected,
  });
  breaker.on('open', () => options.onBreakerState?.('open'));
  breaker.on('halfOpen', () => options.onBreakerState?.('half_open'));
  breaker.on('close', () => options.onBreakerState?.('closed'));

  return handler(
    orderConfirmation,
    async ({ orderId }, job) => {
      const message = { queue: job.queue, messageId: job.messageId };
      if (await isProcessed(options.database.db, processedMessages, message)) return;
      const body = await confirmationBody(options.database, Number(orderId));
      if (body === null) throw new PermanentJobError(`order ${orderId} does not exist`);
      await breaker.fire(body, job.messageId);
      await markProcessed(options.database.db, processedMessages, message);
    },
    { concurrency: 8 },
  );
}
