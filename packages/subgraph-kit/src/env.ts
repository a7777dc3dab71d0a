// The environment of a subgraph process: the only place a subgraph reads process.env.
import { common, loadEnv, z } from '@trellis/config';
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
      /** Connections in this process's pool. */
      DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
      /** Shared with the gateway: verifies the identity it forwards. Required in production. */
      /** Cache invalidations are published on Redis pub/sub when set (the gateways' Redis). */
      REDIS_URL: common.REDIS_URL.optional(),
      /** Must match the gateways' CACHE_NAMESPACE. */
      CACHE_NAMESPACE: common.CACHE_NAMESPACE,
      /** Without REDIS_URL: the gateway endpoint invalidations are POSTed to (embedded dev). */
      CACHE_INVALIDATION_URL: z.url({ message: 'must be a URL' }).optional(),
      SUBGRAPH_SIGNING_SECRET: production
        ? z.string().min(32, 'must be at least 32 characters')
        : z.string().min(1).default(DEV_AUTH.subgraphSecret),
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
