// The one way a Trellis subgraph is assembled: defineSubgraph() (define.ts) takes its
// resolvers, Drizzle schema and per-request loaders (SDL, migrations, name and port come from
// its package layout), and startSubgraph() here wires Apollo
// Server + @apollo/subgraph, the Postgres pool, migrations at start, readiness, error
// masking, identity verification, cache hints, entity tags for the gateway's response cache,
// the cache-invalidation outbox relay, access logs, /metrics and the HTTP front.
import type { IncomingMessage } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { Publisher } from '@trellis/cache/invalidation';
import type { CacheOutboxTable, OutboxRelay } from '@trellis/cache/outbox';
import { createDatabase, type Database, ping, postgres, retryWithBackoff } from '@trellis/db';
import { ErrorCode, maskError, trellisError } from '@trellis/errors';
import {
  accessLogPlugin,
  type ConnectionLimits,
  createGraphQLMetricsPlugin,
  createHttpServer,
  type InputBounds,
  internalSurface,
  listen,
  type Route,
  type RunningServer,
  requestLogFields,
} from '@trellis/http';
import { createInputRulesPlugin, parseDateTime } from '@trellis/http/input';
import { createViewerSigner, createViewerVerifier, DEV_AUTH, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import { activeTraceId, createLogger, type Logger } from '@trellis/telemetry';
import { createMetricsRegistry, metricsRoute, type Registry } from '@trellis/telemetry/metrics';
import { type GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { type AnySchema, migrateSubgraph, type SubgraphContext, type SubgraphDefinition } from './define.ts';
import { createEntityTagsPlugin } from './entity-tags.ts';

export { methodNotAllowed } from '@trellis/http';
export {
  type AnySchema,
  type ContextOf,
  defineSubgraph,
  loadTypeDefs,
  migrateSubgraph,
  type SubgraphContext,
  type SubgraphDefinition,
  type SubgraphSpec,
} from './define.ts';
export {
  type JobQueueStats,
  jobQueuesField,
  parseId,
  referenceById,
  requireScope,
  requireUser,
} from './resolvers.ts';
export type { Route, Viewer };

/**
 * ISO-8601 date-time, shared by every subgraph. Inputs are parsed strictly (@trellis/http/input
 * parseDateTime): real calendar dates, years 0001–9999 — what Postgres can store.
 */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 date-time in UTC (years 0001 to 9999).',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' || typeof value === 'number') return new Date(value).toISOString();
    throw new TypeError('DateTime cannot represent this value');
  },
  parseValue(value) {
    if (typeof value !== 'string') throw new TypeError('DateTime must be a string');
    return parseDateTime(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new TypeError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

export interface StartOptions {
  port: number;
  /** Port of /metrics (ADMIN_PORT); unset: served on `port`. */
  adminPort?: number | undefined;
  host?: string;
  databaseUrl: string;
  /** @default 'development' */
  nodeEnv?: 'development' | 'test' | 'production';
  logger?: Logger;
  /** @default 10 */
  poolMax?: number;
  /** HTTP timeouts and connection cap. @default DEFAULT_CONNECTION_LIMITS (@trellis/http) */
  connections?: ConnectionLimits;
  /** Bounds of variables and extensions. @default DEFAULT_INPUT_BOUNDS (@trellis/http) */
  inputBounds?: InputBounds;
  /** Hook on every SQL statement (tests count statements). */
  onQuery?: (query: string, params: readonly unknown[]) => void;
  /** Extra Apollo plugins, after the kit's own. */
  plugins?: ApolloServerPlugin[];
  /** Verifies the gateway's identity header. @default the development secret */
  signingSecret?: string;
  /**
   * Where the outbox relay publishes invalidations: Redis pub/sub (`redisUrl`, shared by every
   * gateway replica) or, without Redis, a POST to the gateway (`gatewayUrl`). No relay when
   * neither is set (rows then wait in the outbox until one runs).
   */
  invalidation?: {
    redisUrl?: string | undefined;
    namespace?: string | undefined;
    /** The gateway's purge endpoint, or a function giving it (tests start the gateway later). */
    gatewayUrl?: string | (() => string) | undefined;
  };
}

export interface RunningSubgraph extends RunningServer {
  name: string;
  database: Database<AnySchema>;
  /** Resolves once the database is reachable and migrated. */
  ready: Promise<void>;
  isReady(): boolean;
  /** Base URL of /metrics when ADMIN_PORT gives it its own listener. */
  adminUrl?: string | undefined;
  stop(): Promise<void>;
}

/** The outbox relay, when the subgraph has an outbox and a transport is configured. */
async function startRelay(
  definition: { name: string; outbox?: CacheOutboxTable | undefined },
  options: StartOptions,
  registry: Registry,
  logger: Logger,
): Promise<OutboxRelay | undefined> {
  const target = options.invalidation;
  if (!definition.outbox || !(target?.redisUrl || target?.gatewayUrl)) return undefined;
  const { startOutboxRelay } = await import('@trellis/cache/outbox');
  const transport = await import('@trellis/cache/invalidation');
  const onError = (error: unknown) => logger.warn({ err: String(error) }, 'cache invalidation relay: will retry');
  let publisher: Publisher;
  if (target.redisUrl) {
    publisher = transport.createRedisPublisher({ url: target.redisUrl, namespace: target.namespace, onError });
  } else {
    const sign = createViewerSigner(options.signingSecret ?? DEV_AUTH.subgraphSecret);
    const service: Viewer = { userId: null, scopes: [transport.INVALIDATE_SCOPE] };
    publisher = transport.createHttpPublisher({
      url: target.gatewayUrl as string | (() => string),
      headers: async () => ({ [IDENTITY_HEADER]: await sign(service) }),
    });
  }
  // Its own connections (one for LISTEN): relay traffic is not request traffic.
  const sql = postgres(options.databaseUrl, { max: 2, idle_timeout: 30, connect_timeout: 5, onnotice: () => {} });
  const relay = await startOutboxRelay({ sql, table: definition.outbox, publisher, registry, onError });
  return {
    drain: relay.drain,
    async stop() {
      await relay.stop();
      await sql.end({ timeout: 1 });
    },
  };
}

/**
 * Starts the subgraph's HTTP server at once (health answers immediately), then connects
 * to Postgres and migrates in the background with backoff; readiness follows the database.
 */
export async function startSubgraph<TSchema extends AnySchema, TLoaders>(
  definition: SubgraphDefinition<TSchema, TLoaders>,
  options: StartOptions,
): Promise<RunningSubgraph> {
  const logger = options.logger ?? createLogger({ service: definition.name, level: 'silent' });
  const nodeEnv = options.nodeEnv ?? 'development';
  const registry = createMetricsRegistry();
  const database = createDatabase({
    url: options.databaseUrl,
    schema: definition.schema,
    applicationName: `trellis-${definition.name}`,
    max: options.poolMax ?? 10,
    registry,
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
  });
  let ready = false;
  const abort = new AbortController();
  const verifyViewer = createViewerVerifier(options.signingSecret ?? DEV_AUTH.subgraphSecret);

  const apollo = new ApolloServer<SubgraphContext<TSchema, TLoaders>>({
    schema: buildSubgraphSchema([
      {
        typeDefs: definition.typeDefs,
        resolvers: { DateTime, ...definition.resolvers } as GraphQLResolverMap<unknown>,
      },
    ]),
    includeStacktraceInErrorResponses: false,
    // The process entry owns SIGTERM: drain HTTP first, then stop Apollo, then the pool.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      const traceId = activeTraceId();
      const masked = maskError(formatted, {
        exposeInternals: nodeEnv === 'development',
        ...(traceId ? { traceId } : {}),
      });
      if (masked.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
        logger.error({ err: (error as GraphQLError).originalError ?? error, path: formatted.path }, formatted.message);
      }
      return masked;
    },
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Inline traces are for Apollo Studio, which Trellis does not use; OpenTelemetry traces instead.
      ApolloServerPluginInlineTraceDisabled(),
      accessLogPlugin(),
      createGraphQLMetricsPlugin({ registry }),
      createEntityTagsPlugin({ typeDefs: definition.typeDefs }),
      // Text and dates are the API's to validate, not the database's (gateway too: same rule).
      createInputRulesPlugin(),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();

  const ownRoutes = Object.entries(definition.routes?.(database) ?? {}).map(([path, route]): [string, Route] => [
    path,
    (req, res) => {
      if (ready) return route(req, res);
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          errors: [{ message: `${definition.name} is not ready`, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } }],
        }),
      );
    },
  ]);
  const internal = internalSurface(
    { '/metrics': metricsRoute(registry) },
    { adminPort: options.adminPort, port: options.port, logger },
  );
  const server = createHttpServer<SubgraphContext<TSchema, TLoaders>>({
    routes: { ...Object.fromEntries(ownRoutes), ...internal.publicRoutes },
    apollo,
    logger,
    isReady: () => ready,
    ...(options.connections ? { connections: options.connections } : {}),
    ...(options.inputBounds ? { inputBounds: options.inputBounds } : {}),
    context: async (req: IncomingMessage) => {
      if (!ready) {
        throw trellisError(ErrorCode.SERVICE_UNAVAILABLE, `${definition.name} is not ready (database unavailable)`, {
          http: { status: 503 },
        });
      }
      const header = req.headers[IDENTITY_HEADER];
      let viewer: Viewer;
      try {
        viewer = await verifyViewer(Array.isArray(header) ? header[0] : header);
      } catch (error) {
        // Only the gateway may call a subgraph: no valid signed identity, no GraphQL.
        throw trellisError(
          ErrorCode.UNAUTHENTICATED,
          `Requests must come through the gateway (${(error as Error).message})`,
          {
            http: { status: 401 },
          },
        );
      }
      return {
        db: database.db,
        sql: database.sql,
        loaders: definition.createLoaders(database),
        viewer,
        logFields: requestLogFields(req),
      };
    },
  });
  const running = await listen(server, options.port, options.host);
  const admin = await internal.listenBeside(running, options.host ?? '127.0.0.1');

  let relay: OutboxRelay | undefined;
  const readyPromise = retryWithBackoff(
    async () => {
      await migrateSubgraph(definition as never, database as Database<AnySchema>, options.databaseUrl);
      ready = true;
      relay = await startRelay(definition, options, registry, logger);
    },
    {
      signal: abort.signal,
      onRetry: (error, attempt, delayMs) =>
        logger.warn({ attempt, delayMs, err: String(error) }, 'database not reachable; retrying'),
    },
  );
  readyPromise.catch(() => {});

  // After start, readiness keeps following the database so a load balancer can react. The
  // probe has its own connection: it is not request traffic (and is not counted as such).
  const probeSql = postgres(options.databaseUrl, { max: 1, idle_timeout: 10, connect_timeout: 2, onnotice: () => {} });
  // It keeps probing while not ready, so readiness (and traffic) comes back with the
  // database, without a restart (a Postgres restart under load left it not ready for good).
  let started = false;
  readyPromise.then(() => (started = true)).catch(() => {});
  const probe = setInterval(async () => {
    if (!started) return;
    const ok = await ping(probeSql);
    if (ok === ready) return;
    if (ok) logger.info('database reachable again; reporting ready');
    else logger.warn('database ping failed; reporting not ready');
    ready = ok;
  }, 2000);
  probe.unref();

  return {
    ...running,
    name: definition.name,
    database: database as Database<AnySchema>,
    ready: readyPromise,
    isReady: () => ready,
    adminUrl: admin?.url,
    async stop() {
      abort.abort();
      clearInterval(probe);
      await relay?.stop();
      await probeSql.end({ timeout: 1 });
      await running.close(5_000);
      await admin?.close(1000);
      await apollo.stop();
      await database.close();
    },
  };
}
