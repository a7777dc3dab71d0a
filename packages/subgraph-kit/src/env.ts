// The environment of a subgraph process: the only place a subgraph reads process.env.
import { common, loadEnv, z } from '@trellis/config';

export function subgraphEnv(defaultPort: number, source: Record<string, string | undefined> = process.env) {
  return loadEnv(
    {
      NODE_ENV: common.NODE_ENV,
      PORT: common.PORT.default(defaultPort),
      HOST: common.HOST,
      LOG_LEVEL: common.LOG_LEVEL,
      DATABASE_URL: common.DATABASE_URL,
      /** Connections in this process's pool. */
      DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
    },
    source,
  );
}
export type SubgraphEnv = ReturnType<typeof subgraphEnv>;
