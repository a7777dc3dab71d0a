// Webhook delivery for jobs: POSTs a body with an Idempotency-Key (the job's message id,
// stable across retries and redrives) and an HMAC-SHA256 signature of the body
// (`x-trellis-signature: sha256=<hex>`). An opossum circuit breaker guards the endpoint: once
// it is open, deliveries fail at once (no request) and the job backs off; a 4xx other than
// 408/429 cannot succeed later and is a PermanentJobError (dead-lettered at once).
// webhookHandler() records the delivery as processed after the receiver accepted it; a crash
// in between re-sends with the same key, and the receiver drops it. The domain gives only the
// URL and the body (e.g. subgraphs/orders/src/jobs/order-confirmation.ts).

import { createBreaker } from '@trellis/resilience';
import { sign, verify } from '@trellis/signing';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Registry } from 'prom-client';
import { request } from 'undici';
import { isProcessed, markProcessed } from './idempotency.ts';
import type { Queue } from './index.ts';
import type { ProcessedMessagesTable } from './schema.ts';
import { handler, type JobHandler, type JobInfo, PermanentJobError, type WorkerLogger } from './worker.ts';

/** The header carrying the body's signature. */
export const SIGNATURE_HEADER = 'x-trellis-signature';
const SIGNATURE_PREFIX = 'sha256=';

/** The `x-trellis-signature` value of `body`: `sha256=<hex HMAC-SHA256>`. */
export function signWebhookBody(secret: string, body: string): string {
  return `${SIGNATURE_PREFIX}${sign(secret, body, { encoding: 'hex' })}`;
}

/** Whether `header` is `body`'s signature under `secret` (constant time; receivers and tests). */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header?.startsWith(SIGNATURE_PREFIX)) return false;
  return verify(secret, body, header.slice(SIGNATURE_PREFIX.length), { encoding: 'hex' });
}

/** The receiver refused the delivery (a 4xx other than 408/429): retrying cannot help. */
export class WebhookRejected extends PermanentJobError {}

export type { BreakerState } from '@trellis/resilience';

import type { BreakerState } from '@trellis/resilience';

export interface WebhookOptions {
  url: string;
  /** HMAC-SHA256 key of the signature header. */
  secret: string;
  /** Bound on one delivery (headers, body and the whole request). */
  timeoutMs: number;
  breaker: {
    /** The breaker opens when this share (%) of recent deliveries failed… */
    errorThresholdPercentage: number;
    /** …over at least this many deliveries… */
    volumeThreshold: number;
    /** …and tries one delivery again after this long (ms). */
    resetTimeout: number;
  };
  /** Who the webhook is for, in the breaker's log lines and metric help (e.g. `order-confirmation`). */
  name?: string;
  /** `trellis_jobs_webhook_breaker_state` (0 closed, 1 half-open, 2 open) is registered here when given. */
  registry?: Registry;
  /** Breaker changes are logged here when given (`webhook circuit breaker open`, a warning). */
  logger?: Pick<WorkerLogger, 'info' | 'warn'>;
  /** Called on every breaker change. */
  onBreakerState?: (state: BreakerState) => void;
}

export interface Webhook {
  /** POSTs `body` with `idempotencyKey`; resolves on a 2xx, throws otherwise (WebhookRejected when final). */
  deliver(body: string, idempotencyKey: string): Promise<void>;
}

export function createWebhook(options: WebhookOptions): Webhook {
  const post = async (body: string, key: string): Promise<void> => {
    const response = await request(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key,
        [SIGNATURE_HEADER]: signWebhookBody(options.secret, body),
      },
      body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body.dump();
    if (response.statusCode >= 200 && response.statusCode < 300) return;
    const retryable = response.statusCode >= 500 || response.statusCode === 408 || response.statusCode === 429;
    if (!retryable) throw new WebhookRejected(`webhook refused the delivery: HTTP ${response.statusCode}`);
    throw new Error(`webhook answered HTTP ${response.statusCode}`);
  };
  const breaker = createBreaker('webhook', {
    action: post,
    errorThresholdPercentage: options.breaker.errorThresholdPercentage,
    volumeThreshold: options.breaker.volumeThreshold,
    resetTimeout: options.breaker.resetTimeout,
    // A refusal is the receiver working as designed, not the endpoint failing.
    isRequestError: (error: unknown) => error instanceof WebhookRejected,
    ...(options.registry
      ? {
          metric: {
            registry: options.registry,
            name: 'trellis_jobs_webhook_breaker_state',
            help: `Circuit breaker of the ${options.name ? `${options.name} ` : ''}webhook: 0 closed, 1 half-open, 2 open.`,
          },
        }
      : {}),
    onStateChange: (state) => {
      options.logger?.[state === 'open' ? 'warn' : 'info']({ state }, `webhook circuit breaker ${state}`);
      options.onBreakerState?.(state);
    },
  });
  return { deliver: (body, key) => breaker.fire(body, key) };
}

export interface WebhookHandlerOptions<TPayload> {
  webhook: Webhook;
  /** The domain's database and processed-messages table (a delivery is recorded once accepted). */
  // biome-ignore lint/suspicious/noExplicitAny: any relational schema
  db: PgDatabase<PgQueryResultHKT, any>;
  processed: ProcessedMessagesTable;
  /**
   * The body to deliver for a job: the same bytes on every retry (read from committed rows).
   * Throw PermanentJobError when there is nothing to deliver.
   */
  body: (payload: TPayload, job: JobInfo) => Promise<string>;
  /** @default 8 */
  concurrency?: number;
}

/** A handler of `queue` that delivers each job's body to the webhook once, keyed by its message id. */
export function webhookHandler<TPayload>(
  queue: Queue<TPayload>,
  options: WebhookHandlerOptions<TPayload>,
): JobHandler<TPayload> {
  return handler(
    queue,
    async (payload, job) => {
      const message = { queue: job.queue, messageId: job.messageId };
      if (await isProcessed(options.db, options.processed, message)) return;
      const body = await options.body(payload, job);
      await options.webhook.deliver(body, job.messageId);
      await markProcessed(options.db, options.processed, message);
    },
    { concurrency: options.concurrency ?? 8 },
  );
}
