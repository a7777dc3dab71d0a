// The job worker of a subgraph, assembled the same way for every domain: the subgraph's
// database (Drizzle, for idempotent effects), its queues (@trellis/jobs), a small HTTP front
// with health and /metrics, and SIGTERM → drain. A subgraph's src/worker.ts calls runWorker().
import { exitWith } from '@trellis/config';
import { createDatabase, type Database, retryWithBackoff } from '@trellis/db';
import {
  createBoundedServer,
  DEFAULT_CONNECTION_LIMITS,
  exitOnSignals,
  healthRoutes,
  internalSurface,
  listen,
  type RunningServer,
  routeRequests,
} from '@trellis/http';
import type { JobHandler, RunningWorker } from '@trellis/jobs/worker';
import { startWorker } from '@trellis/jobs/worker';
import { createLogger, type Logger } from '@trellis/telemetry';
import { createMetricsRegistry, metricsRoute, type Registry } from '@trellis/telemetry/metrics';
import { workerEnv } from './env.ts';
import { type AnySchema, migrateSubgraph, type SubgraphDefinition } from './index.ts';

export interface WorkerDeps<TSchema extends AnySchema> {
  database: Database<TSchema>;
  logger: Logger;
  registry: Registry;
}

export interface WorkerDefinition<TSchema extends AnySchema> {
  /** Its subgraph; the worker's port when PORT is unset is the subgraph's package.json `trellis.worker.port`. */
  subgraph: SubgraphDefinition<TSchema, unknown>;
  /** The handlers of the subgraph's queues. */
  handlers: (deps: WorkerDeps<TSchema>) => JobHandler[];
}

export interface WorkerStartOptions {
  databaseUrl: string;
  port: number;
  /** Port of /metrics (ADMIN_PORT); unset: served on `port` beside health. */
  adminPort?: number | undefined;
  host?: string;
  logger?: Logger;
  /** @default 1000 */
  pollIntervalMs?: number;
  /** @default 60 */
  maintenanceIntervalSeconds?: number;
  /** Connections the handlers' database pool holds (DB_POOL_MAX). @default 8 */
  poolMax?: number;
  /** Connections of pg-boss's own pool (JOBS_POOL_MAX). @default DEFAULT_JOBS_POOL_MAX of @trellis/jobs */
  jobsPoolMax?: number;
}

export interface RunningSubgraphWorker extends RunningServer {
  worker: RunningWorker;
  database: Database<AnySchema>;
  /** Drain (see RunningWorker.stop), then close the HTTP front and the pool. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

export async function startSubgraphWorker<TSchema extends AnySchema>(
  definition: WorkerDefinition<TSchema>,
  options: WorkerStartOptions,
): Promise<RunningSubgraphWorker> {
  const { subgraph } = definition;
  if (!subgraph.jobs) throw new Error(`${subgraph.name} defines no jobs`);
  const name = `${subgraph.name}-worker`;
  const logger = options.logger ?? createLogger({ service: name, level: 'silent' });
  const registry = createMetricsRegistry();
  const database = createDatabase({
    url: options.databaseUrl,
    schema: subgraph.schema,
    applicationName: `trellis-${name}`,
    max: options.poolMax ?? 8,
  });
  let ready = false;
  const internal = internalSurface(
    { '/metrics': metricsRoute(registry) },
    { adminPort: options.adminPort, port: options.port, logger },
  );
  const server = createBoundedServer(
    DEFAULT_CONNECTION_LIMITS,
    routeRequests({ ...internal.publicRoutes, ...healthRoutes(() => ready) }, logger),
  );
  const running = await listen(server, options.port, options.host);
  const admin = await internal.listenBeside(running, options.host ?? '127.0.0.1');
  // The worker needs its tables and queues: migrate (idempotent, serialised) with backoff.
  await retryWithBackoff(() => migrateSubgraph(subgraph as never, database as never, options.databaseUrl), {
    onRetry: (error, attempt, delayMs) =>
      logger.warn({ attempt, delayMs, err: String(error) }, 'database not ready; retrying'),
  });
  const worker = await startWorker({
    databaseUrl: options.databaseUrl,
    jobs: subgraph.jobs,
    handlers: definition.handlers({ database, logger, registry }),
    logger,
    registry,
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.maintenanceIntervalSeconds ? { maintenanceIntervalSeconds: options.maintenanceIntervalSeconds } : {}),
    ...(options.jobsPoolMax ? { poolMax: options.jobsPoolMax } : {}),
  });
  ready = true;
  return {
    ...running,
    worker,
    database: database as Database<AnySchema>,
    async stop(drainTimeoutMs) {
      ready = false;
      await worker.stop(drainTimeoutMs);
      await running.close(1000);
      await admin?.close(1000);
      await database.close();
    },
  };
}

/** Process entry of a worker: env, logger, start, SIGTERM/SIGINT drain. */
export async function runWorker<TSchema extends AnySchema>(definition: WorkerDefinition<TSchema>): Promise<void> {
  const port = definition.subgraph.defaultWorkerPort;
  if (port === undefined)
    exitWith(`${definition.subgraph.name}: package.json has no "trellis.worker.port" for its worker`);
  const env = workerEnv(port);
  const logger = createLogger({ service: `${definition.subgraph.name}-worker`, level: env.LOG_LEVEL });
  let running: RunningSubgraphWorker;
  try {
    running = await startSubgraphWorker(definition, {
      databaseUrl: env.DATABASE_URL,
      port: env.PORT,
      adminPort: env.ADMIN_PORT,
      host: env.HOST,
      logger,
      pollIntervalMs: env.JOBS_POLL_INTERVAL_MS,
      maintenanceIntervalSeconds: env.JOBS_MAINTENANCE_INTERVAL_S,
      poolMax: env.DB_POOL_MAX,
      jobsPoolMax: env.JOBS_POOL_MAX,
    });
  } catch (error) {
    exitWith(`${definition.subgraph.name}-worker: ${error instanceof Error ? error.message : String(error)}`);
  }
  logger.info({ port: running.port }, 'worker ready');
  // SIGTERM: drain within JOBS_DRAIN_TIMEOUT_MS (then the leftovers are failed to retry).
  exitOnSignals(() => running.stop(env.JOBS_DRAIN_TIMEOUT_MS), logger, env.JOBS_DRAIN_TIMEOUT_MS + 10_000);
}
