// Process entry for a subgraph: env, logger, start, graceful SIGTERM/SIGINT.
// `--migrate-only` applies migrations and exits (`pnpm db:migrate`).
import { exitWith } from '@trellis/config';
import { createDatabase } from '@trellis/db';
import { parseScale, seedPlan } from '@trellis/db/seed';
import { exitOnSignals, httpLimits } from '@trellis/http';
import { createLogger } from '@trellis/telemetry';
import { subgraphEnv } from './env.ts';
import { type AnySchema, migrateSubgraph, type SubgraphDefinition, startSubgraph } from './index.ts';

export async function runSubgraph<TSchema extends AnySchema, TLoaders>(
  definition: SubgraphDefinition<TSchema, TLoaders>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  definition.checkEnv?.();
  const env = subgraphEnv(definition.defaultPort);
  const logger = createLogger({ service: definition.name, level: env.LOG_LEVEL });

  if (argv.includes('--migrate-only') || argv.includes('--seed')) {
    const database = createDatabase({
      url: env.DATABASE_URL,
      schema: definition.schema,
      applicationName: `trellis-${definition.name}-tool`,
      max: 2,
    });
    try {
      await migrateSubgraph(definition as never, database as never, env.DATABASE_URL);
      if (argv.includes('--seed')) await definition.seed(database, seedPlan(parseScale(argv)));
    } catch (error) {
      exitWith(`${definition.name}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await database.close();
    }
    return;
  }

  let running: Awaited<ReturnType<typeof startSubgraph>>;
  try {
    running = await startSubgraph(definition, {
      port: env.PORT,
      adminPort: env.ADMIN_PORT,
      host: env.HOST,
      databaseUrl: env.DATABASE_URL,
      nodeEnv: env.NODE_ENV,
      poolMax: env.DB_POOL_MAX,
      ...httpLimits(env),
      signingSecret: env.SUBGRAPH_SIGNING_SECRET,
      invalidation: {
        redisUrl: env.REDIS_URL,
        namespace: env.CACHE_NAMESPACE,
        gatewayUrl: env.CACHE_INVALIDATION_URL,
      },
      logger,
    });
  } catch (error) {
    exitWith(`${definition.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  logger.info({ url: `${running.url}/graphql`, port: running.port }, 'listening');
  running.ready.then(() => logger.info('ready'));

  exitOnSignals(() => running.stop(), logger);
}
