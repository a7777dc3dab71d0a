// Settings of the orders subgraph beyond the kit's: where catalogue prices come from (API)
// and where order confirmations go (worker). The only place orders reads process.env;
// parsed on first use, so tools that import the subgraph definition need none of it.
import { parseEnv, z } from '@trellis/config';
import { DEV_AUTH } from '@trellis/identity';

export const DEV_WEBHOOK = {
  url: 'http://127.0.0.1:4199/webhooks/orders',
  secret: 'trellis-dev-webhook-secret',
} as const;

export function ordersEnv(source: Record<string, string | undefined> = process.env) {
  const production = source.NODE_ENV === 'production';
  return parseEnv(
    {
      /** The products subgraph's GraphQL endpoint: placeOrder reads current prices there. */
      CATALOGUE_URL: z.url().default('http://127.0.0.1:4002/graphql'),
      /** Bound on that price lookup. */
      CATALOGUE_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1500),
      /** Signs the service identity sent to the products subgraph (same secret as the gateway's). */
      SUBGRAPH_SIGNING_SECRET: production
        ? z.string().min(32, 'must be at least 32 characters')
        : z.string().min(1).default(DEV_AUTH.subgraphSecret),
      /** Order confirmations are POSTed here (worker). */
      NOTIFY_WEBHOOK_URL: production ? z.url() : z.url().default(DEV_WEBHOOK.url),
      /** HMAC-SHA256 key of the `x-trellis-signature` header. */
      NOTIFY_WEBHOOK_SECRET: production
        ? z.string().min(32, 'must be at least 32 characters')
        : z.string().min(1).default(DEV_WEBHOOK.secret),
      /** Bound on one delivery. */
      NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
      /** The breaker opens when this share of recent deliveries failed… */
      NOTIFY_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
      /** …over at least this many deliveries… */
      NOTIFY_BREAKER_VOLUME: z.coerce.number().int().min(1).default(5),
      /** …and tries one delivery again after this long. */
      NOTIFY_BREAKER_RESET_MS: z.coerce.number().int().min(100).default(30_000),
    },
    source,
  );
}
export type OrdersEnv = ReturnType<typeof ordersEnv>;

/** Retry policy of the confirmation queue: needed wherever the queue is defined, all defaulted. */
export function retryEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(
    {
      /** Full-jitter backoff: ceiling of the first retry's delay, and its cap. */
      NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2000),
      NOTIFY_RETRY_MAX_MS: z.coerce.number().int().min(1).default(600_000),
      /** Attempts before a confirmation is dead-lettered. */
      NOTIFY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
      /** A delivery job still active after this long (its worker died) is failed and retried. */
      NOTIFY_EXPIRE_S: z.coerce.number().int().min(1).max(3600).default(120),
    },
    source,
  );
}

let cached: OrdersEnv | undefined;
/** The process's settings, parsed once. */
export function settings(): OrdersEnv {
  cached ??= ordersEnv();
  return cached;
}
