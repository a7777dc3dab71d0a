// The environment of a subgraph process: the only place a subgraph reads process.env.
import { common, httpFields, loadEnv, z } from '@trellis/config';
import { DEV_AUTH } from '@trellis/identity';
import { DEFAULT_JOBS_POOL_MAX } from '@trellis/jobs/pool';

/** What every subgraph process (service or worker) reads. */
const processFields = (defaultPort: number) => ({
  NODE_ENV: common.NODE_ENV,
  PORT: common.PORT.default(defaultPort),
  HOST: common.HOST,
  ADMIN_PORT: common.ADMIN_PORT.optional(),
  LOG_LEVEL: common.LOG_LEVEL,
  DATABASE_URL: common.DATABASE_URL,
});

export function subgraphEnv(defaultPort: number, source: Record<string, string | undefined> = process.env) {
  const production = source.NODE_ENV === 'production';
  return loadEnv(
    {
      ...processFields(defaultPort),
      ...httpFields,
      /** Connections in this process's pool. */
      DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
      /** Shared with the gateway: verifies the identity it forwards. Required in production. */
      /** Cache invalidations are published on Redis pub/sub when set (the gateways' Redis). */
      REDIS_URL: common.REDIS_URL.optional(),
      /** Must match the gateways' CACHE_NAMESPACE. */
      CACHE_NAMESPACE: common.CACHE_NAMESPACE,
      /** Without REDIS_URL: the gateway endpoint invalidations are POSTed to (embedded dev). */
      CACHE_INVALIDATION_URL: z.url({ message: 'must be a URL' }).optional(),
      SUBGRAPH_SIGNING_SECRET: signingSecretField(production),
    },
    source,
  );
}
export type SubgraphEnv = ReturnType<typeof subgraphEnv>;

/** The environment of a subgraph's job worker process. */
export function workerEnv(defaultPort: number, source: Record<string, string | undefined> = process.env) {
  return loadEnv(
    {
      // PORT: health and /metrics.
      ...processFields(defaultPort),
      /** Wait between fetches of an empty queue. */
      JOBS_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
      /** On SIGTERM, in-flight jobs get this long to finish before they are failed (and retried). */
      JOBS_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
      /** pg-boss supervision: how often stuck (expired) jobs are failed back to retry. */
      JOBS_MAINTENANCE_INTERVAL_S: z.coerce.number().int().min(1).max(3600).default(60),
      /** Connections the handlers share (their idempotent writes); pg-boss keeps its own. */
      DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(8),
      /**
       * Connections of pg-boss's own pool (fetch, complete, fail, supervision, queue stats),
       * whatever the handlers' concurrency; budgeted per worker pod in docs/scaling.md.
       */
      JOBS_POOL_MAX: z.coerce.number().int().min(1).max(100).default(DEFAULT_JOBS_POOL_MAX),
    },
    source,
  );
}
export type WorkerEnv = ReturnType<typeof workerEnv>;

// --- field helpers: what a subgraph's own env.ts composes into its schema ----------------

/** A secret: required and at least 32 characters in production, `devDefault` elsewhere. */
export function secretField(production: boolean, devDefault: string) {
  return production ? z.string().min(32, 'must be at least 32 characters') : z.string().min(1).default(devDefault);
}

/** SUBGRAPH_SIGNING_SECRET: the key of the identity the gateway (and a subgraph client) signs. */
export function signingSecretField(production: boolean) {
  return secretField(production, DEV_AUTH.subgraphSecret);
}

type Prefixed<P extends string, S> = { [K in keyof S & string as `${P}_${K}`]: S[K] };

function prefixed<P extends string, S extends Record<string, z.ZodType>>(prefix: P, shape: S): Prefixed<P, S> {
  return Object.fromEntries(Object.entries(shape).map(([key, field]) => [`${prefix}_${key}`, field])) as Prefixed<P, S>;
}

/**
 * Another subgraph this one calls with the kit's signed client (graphql-client.ts):
 * `<P>_URL`, its GraphQL endpoint, and `<P>_TIMEOUT_MS` (50–30,000), the bound on one request.
 */
export function subgraphClientFields<P extends string>(prefix: P, defaults: { url: string; timeoutMs: number }) {
  return prefixed(prefix, {
    URL: z.url().default(defaults.url),
    TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(defaults.timeoutMs),
  });
}

/**
 * A webhook a worker delivers to (@trellis/jobs/webhook): `<P>_WEBHOOK_URL` and
 * `<P>_WEBHOOK_SECRET` (the HMAC key of the signature header; both required in production),
 * `<P>_TIMEOUT_MS` (one delivery, default 5000), and the breaker: it opens when
 * `<P>_BREAKER_ERROR_PERCENT` (50) of recent deliveries failed over at least
 * `<P>_BREAKER_VOLUME` (5) deliveries, and tries one again after `<P>_BREAKER_RESET_MS` (30,000).
 */
export function webhookFields<P extends string>(
  prefix: P,
  options: { production: boolean; dev: { url: string; secret: string } },
) {
  return prefixed(prefix, {
    WEBHOOK_URL: options.production ? z.url() : z.url().default(options.dev.url),
    WEBHOOK_SECRET: secretField(options.production, options.dev.secret),
    TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
    BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
    BREAKER_VOLUME: z.coerce.number().int().min(1).default(5),
    BREAKER_RESET_MS: z.coerce.number().int().min(100).default(30_000),
  });
}

type WebhookEnv<P extends string> = Record<`${P}_WEBHOOK_URL` | `${P}_WEBHOOK_SECRET`, string> &
  Record<`${P}_TIMEOUT_MS` | `${P}_BREAKER_ERROR_PERCENT` | `${P}_BREAKER_VOLUME` | `${P}_BREAKER_RESET_MS`, number>;

/** createWebhook()'s settings from fields made by webhookFields(prefix). */
export function webhookSettings<P extends string>(env: WebhookEnv<P>, prefix: P) {
  return {
    url: env[`${prefix}_WEBHOOK_URL`],
    secret: env[`${prefix}_WEBHOOK_SECRET`],
    timeoutMs: env[`${prefix}_TIMEOUT_MS`],
    breaker: {
      errorThresholdPercentage: env[`${prefix}_BREAKER_ERROR_PERCENT`],
      volumeThreshold: env[`${prefix}_BREAKER_VOLUME`],
      resetTimeout: env[`${prefix}_BREAKER_RESET_MS`],
    },
  };
}

/**
 * A queue's retry policy from the environment: full-jitter backoff from `<P>_RETRY_BASE_MS`
 * up to `<P>_RETRY_MAX_MS`, `<P>_ATTEMPTS` (1–50) before the dead letter, and
 * `<P>_EXPIRE_S` (1–3600): a job still active after this long (its worker died) is failed
 * and retried. Every field is defaulted.
 */
export function queueRetryFields<P extends string>(
  prefix: P,
  defaults: { baseDelayMs: number; maxDelayMs: number; attempts: number; expireInSeconds: number },
) {
  return prefixed(prefix, {
    RETRY_BASE_MS: z.coerce.number().int().min(1).default(defaults.baseDelayMs),
    RETRY_MAX_MS: z.coerce.number().int().min(1).default(defaults.maxDelayMs),
    ATTEMPTS: z.coerce.number().int().min(1).max(50).default(defaults.attempts),
    EXPIRE_S: z.coerce.number().int().min(1).max(3600).default(defaults.expireInSeconds),
  });
}

type QueueRetryEnv<P extends string> = Record<
  `${P}_RETRY_BASE_MS` | `${P}_RETRY_MAX_MS` | `${P}_ATTEMPTS` | `${P}_EXPIRE_S`,
  number
>;

/** defineQueue()'s `retry` and `expireInSeconds` from fields made by queueRetryFields(prefix). */
export function queueRetrySettings<P extends string>(env: QueueRetryEnv<P>, prefix: P) {
  return {
    retry: {
      attempts: env[`${prefix}_ATTEMPTS`],
      baseDelayMs: env[`${prefix}_RETRY_BASE_MS`],
      maxDelayMs: env[`${prefix}_RETRY_MAX_MS`],
    },
    expireInSeconds: env[`${prefix}_EXPIRE_S`],
  };
}

/** A settings loader that parses on first use and then returns the same object. */
export function lazily<T>(load: () => T): () => T {
  let value: T | undefined;
  let loaded = false;
  return () => {
    if (!loaded) {
      value = load();
      loaded = true;
    }
    return value as T;
  };
}
