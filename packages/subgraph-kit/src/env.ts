// The environment of a subgraph process: the only place a subgraph reads process.env.
import { common, loadEnv, z } from '@trellis/config';
import { DEV_AUTH } from '@trellis/identity';

export function subgraphEnv(defaultPort: number, source: Record<string, string | undefined> = process.env) {
  const production = source.NODE_ENV === 'production';
  return loadEnv(
    {
      NODE_ENV: common.NODE_ENV,
      PORT: common.PORT.default(defaultPort),
      HOST: common.HOST,
      LOG_LEVEL: common.LOG_LEVEL,
      DATABASE_URL: common.DATABASE_URL,
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
