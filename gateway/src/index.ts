// The Trellis gateway: @apollo/gateway inside @apollo/server behind the shared HTTP front.
// Plugins are listed in one place (startGateway) so limits, auth, caching and telemetry
// slot in as small factories.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { maskError } from '@trellis/errors';
import {
  accessLogPlugin,
  createCors,
  createGraphQLMetrics,
  createHttpServer,
  internalSurface,
  listen,
  REQUEST_ID_HEADER,
  type Route,
  type RunningServer,
  requestLogFields,
} from '@trellis/http';
import { createInputRulesPlugin } from '@trellis/http/input';
import { ANONYMOUS } from '@trellis/identity';
import { createCircuit } from '@trellis/resilience';
import { activeTraceId, createLogger, type Logger } from '@trellis/telemetry';
import { createMetricsRegistry, metricsRoute, type Registry } from '@trellis/telemetry/metrics';
import type { DocumentNode } from 'graphql';
import { createAuthorizationPlugin, extractSecurity, type SecurityRequirements } from './authorization.ts';
import { compileTrustedProxies } from './client-address.ts';
import { type CostHints, EMPTY_COST_HINTS, readCostHints } from './cost.ts';
import type { GatewayConfig } from './env.ts';
import { createContextFactory, createIdentifier, type GatewayContext } from './identity.ts';
import { createLimitsPlugin } from './limits.ts';
import { withOperationDedupe } from './operation-dedupe.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createRateLimitGate } from './rate-limit-http.ts';
import {
  closeDataSources,
  createDataSource,
  createSubgraphConcurrency,
  hintlessDefault,
  type TrellisDataSource,
} from './subgraph-fetch/index.ts';
import { fileSupergraph, readSupergraph } from './supergraph.ts';
import { loadManifest, NOT_TRUSTED, resolveTrusted } from './trusted-documents.ts';

export type { GatewayConfig } from './env.ts';
export { DEFAULT_LIMITS, type Limits } from './limits.ts';
export { createRateLimiter, DEFAULT_RATE_LIMIT, type RateLimitConfig } from './rate-limit.ts';
export { type ConcurrencyPolicy, DEFAULT_CONCURRENCY } from './subgraph-fetch/index.ts';

/**
 * Parsed documents Apollo keeps, bounded by the JSON size of each (Apollo's own measure).
 * A parsed document also keeps its token chain (`loc`), which that measure misses: the fuzz
 * suite's hostile documents held ~2.5× the nominal bound (docs/reliability.md, "Gateway
 * memory"); Apollo's default of 30 MiB nominal took ~77 MiB of a 320 MiB heap.
 */
const DOCUMENT_STORE_BYTES = 12 * 1024 * 1024;

/** Masked errors tell the client which request to quote (the logs carry the full error). */
function requestIdOnInternalErrors(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request }) {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const requestId = request.http?.headers.get(REQUEST_ID_HEADER);
          for (const error of response.body.singleResult.errors) {
            if (error.extensions?.code === 'INTERNAL_SERVER_ERROR' && requestId) {
              (error.extensions as Record<string, unknown>).requestId = requestId;
            }
          }
        },
      };
    },
  };
}

function admitTrusted(documents: Map<string, string>, body: unknown): { body: unknown } | string {
  const result = resolveTrusted(documents, body);
  return result.ok ? { body: result.body } : result.message;
}

export interface RunningGateway extends RunningServer {
  stop(): Promise<void>;
  /** Prometheus registry of this gateway (subgraph fetch metrics, see subgraph-fetch/metrics.ts). */
  registry: Registry;
  /** Base URL of the internal surface (/metrics, /admin/*) when ADMIN_PORT gives it its own listener. */
  adminUrl?: string | undefined;
  /** Flushes recorded operation usage now (when usage reporting is on). */
  flushUsage?: () => Promise<void>;
}

export async function startGateway(config: GatewayConfig, logger?: Logger): Promise<RunningGateway> {
  const log = logger ?? createLogger({ service: 'gateway', level: 'silent' });
  const production = config.nodeEnv === 'production';
  const sdl = readSupergraph(config.supergraphPath);
  const trusted = config.trustedDocuments ? loadManifest(config.trustedDocuments) : undefined;
  // What the query planner does not enforce, read from each supergraph version it loads.
  let security: SecurityRequirements = { authenticated: new Set(), scopes: new Map() };
  let costHints: CostHints = EMPTY_COST_HINTS;
  // What cached answers depend on besides the request: the supergraph and the configuration
  // that shapes answers. Entries of another generation are never read (response-cache.ts).
  const shaping = JSON.stringify([config.features, config.limits, config.responseCache.subgraphDefaultMaxAge]);
  let generation = '';
  const prepare = (supergraph: string) => {
    generation = createHash('sha256').update(shaping).update(supergraph).digest('base64url');
    const extracted = extractSecurity(supergraph);
    security = extracted.requirements;
    costHints = readCostHints(supergraph);
    return extracted.sdl;
  };

  // Subgraph data sources (subgraph-fetch/): one per subgraph, closed on stop. Each fetch
  // carries the signed identity the request context built (health checks have none).
  const registry = createMetricsRegistry();
  const dataSources: TrellisDataSource[] = [];
  const buildService = ({ name, url }: { name: string; url?: string }) => {
    const source = createDataSource({
      name,
      url: config.subgraphUrls[name] ?? url ?? '',
      registry,
      timeoutMs: config.subgraphTimeoutMs,
      dedupe: config.subgraphDedup ?? true,
      headers: (context) => (context as Partial<GatewayContext>).subgraphHeaders,
      ...(config.responseCache.subgraphDefaultMaxAge
        ? { defaultCacheHint: hintlessDefault(config.responseCache.subgraphDefaultMaxAge) }
        : {}),
      ...(config.features
        ? {
            concurrency: createSubgraphConcurrency(
              name,
              {
                maxInFlight: config.subgraphConcurrency.perSubgraph[name] ?? config.subgraphConcurrency.maxInFlight,
                queueMs: config.subgraphConcurrency.queueMs,
              },
              registry,
            ),
          }
        : { retry: { attempts: 1 }, breaker: false as const }),
    });
    dataSources.push(source);
    return source;
  };

  const gateway = new ApolloGateway({
    supergraphSdl: fileSupergraph(config.supergraphPath, sdl, log, prepare),
    buildService,
    logger: {
      debug: (message) => log.debug(String(message)),
      info: (message) => log.info(String(message)),
      warn: (message) => log.warn(String(message)),
      error: (message) => log.error(String(message)),
    },
  });

  const graphqlMetrics = createGraphQLMetrics({ registry, ...(config.clients ? { clients: config.clients } : {}) });
  const identify = config.features ? createIdentifier(config.auth) : async () => ANONYMOUS;
  // One fail-fast circuit for the gateway's Redis, shared by the rate limiter and the response
  // cache: a hung Redis costs a request at most one bounded wait, and none once it is open.
  const redisCircuit = config.responseCache.redisUrl
    ? createCircuit({ timeoutMs: config.responseCache.timeoutMs, what: 'Redis call' })
    : undefined;
  // Rate limits (rate-limit.ts): budgets in the response cache's Redis when there is one.
  const rateLimiter =
    config.features && config.rateLimit.enabled
      ? createRateLimiter({
          ...config.rateLimit,
          redisUrl: config.responseCache.redisUrl,
          namespace: config.responseCache.namespace,
          ...(redisCircuit ? { circuit: redisCircuit } : {}),
          registry,
          logger: log,
        })
      : undefined;
  const rateLimit = rateLimiter
    ? createRateLimitGate({
        limiter: rateLimiter,
        identify,
        trust: compileTrustedProxies(config.rateLimit.trustedProxies),
        metrics: graphqlMetrics,
        byClient: config.rateLimit.byClient,
      })
    : undefined;
  const features: ApolloServerPlugin<GatewayContext>[] = [
    createLimitsPlugin<GatewayContext>({
      limits: config.limits,
      hints: () => costHints,
      exposeFigures: !production,
      reportCost: config.nodeEnv === 'development',
      ...(rateLimit ? { onEstimate: rateLimit.spendEstimate } : {}),
    }),
    createAuthorizationPlugin(() => security),
    ...(rateLimit ? [rateLimit.plugin] : []),
  ];
  // Loaded only when on: the Redis client and cache plugin cost memory a gateway without a
  // response cache should not pay (peak RSS is part of the gateway's budget).
  const cacheStore = config.responseCache.enabled
    ? (await import('@trellis/cache')).createCacheStore({
        redisUrl: config.responseCache.redisUrl,
        timeoutMs: config.responseCache.timeoutMs,
        namespace: config.responseCache.namespace,
        ...(redisCircuit ? { circuit: redisCircuit } : {}),
        registry,
        onError: (error) => log.warn({ err: String(error) }, 'response cache unavailable; serving uncached'),
      })
    : undefined;
  const responseCache = cacheStore
    ? (await import('./response-cache.ts')).createResponseCache({
        store: cacheStore,
        registry,
        metrics: graphqlMetrics,
        identify,
        generation: () => generation,
      })
    : undefined;
  const cachePlugins = responseCache?.plugins ?? [];
  // Committed writes arrive on Redis pub/sub (every replica subscribes) or, without Redis,
  // as POSTs from the relays to the purge route (cache-admin.ts), which operators use too.
  const cacheRoutes: Record<string, Route> = {};
  if (responseCache) {
    const admin = await import('./cache-admin.ts');
    cacheRoutes[admin.PURGE_PATH] = admin.createPurgeRoute(responseCache, config.auth);
  }
  const subscription =
    responseCache && config.responseCache.redisUrl
      ? await (await import('@trellis/cache/invalidation')).subscribeInvalidations({
          url: config.responseCache.redisUrl,
          namespace: config.responseCache.namespace,
          onBatch: async (batch) => {
            await responseCache.invalidate(batch, 'pubsub');
          },
          onError: (error) => log.warn({ err: String(error) }, 'cache invalidation subscription'),
        })
      : undefined;
  // Operation usage (usage/recorder.ts): recorded in memory, flushed to Postgres off the request path.
  const usage = config.usage
    ? (await import('./usage/recorder.ts')).createUsageReporting(config.usage, { registry, logger: log })
    : undefined;
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ...(config.features ? features : []),
    // Text and dates checked by type before any subgraph fetch (the subgraphs apply the same rule).
    createInputRulesPlugin<GatewayContext>(),
    ...cachePlugins,
    // Apollo's landing pages load from a CDN; development gets the gateway's own explorer.
    ApolloServerPluginLandingPageDisabled(),
    requestIdOnInternalErrors(),
    accessLogPlugin(),
    graphqlMetrics.plugin<GatewayContext>(),
    ...(usage ? [usage.plugin<GatewayContext>()] : []),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
  ];

  const apollo = new ApolloServer<GatewayContext>({
    // Identical in-flight queries share one execution (operation-dedupe.ts), unless switched off.
    gateway: config.operationDedup === false ? gateway : withOperationDedupe(gateway, { registry }),
    plugins,
    introspection: !production,
    // No "did you mean…" field suggestions for strangers.
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: DOCUMENT_STORE_BYTES }),
    includeStacktraceInErrorResponses: false,
    // The process entry owns SIGTERM: drain HTTP first, then stop Apollo, then the pool.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      const traceId = activeTraceId();
      const masked = maskError(formatted, { exposeInternals: !production, ...(traceId ? { traceId } : {}) });
      if (masked.extensions?.code === 'INTERNAL_SERVER_ERROR')
        log.error({ err: error, path: formatted.path }, formatted.message);
      return masked;
    },
  });
  // Cached hits never reach Apollo: the usage recorder counts them at the front.
  const cacheFront = responseCache && usage ? usage.front(responseCache.front) : responseCache?.front;
  const baseContext = config.features
    ? createContextFactory(identify, config.auth)
    : async (req: IncomingMessage): Promise<GatewayContext> => ({
        viewer: ANONYMOUS,
        subgraphHeaders: {},
        logFields: requestLogFields(req),
      });
  // Development explorer (explorer.ts): GraphiQL bundled from the project's dependencies.
  const explorer = production ? undefined : (await import('./explorer.ts')).createExplorer(log);
  // Bind the port first (a port in use fails fast), answer 503 until the supergraph is loaded.
  let ready = false;
  const internal = internalSurface(
    { '/metrics': metricsRoute(registry), ...cacheRoutes },
    { adminPort: config.adminPort, port: config.port, logger: log },
  );
  const server = createHttpServer<GatewayContext>({
    routes: { ...internal.publicRoutes, ...explorer?.routes },
    ...(explorer ? { landingPage: explorer.page } : {}),
    apollo,
    logger: log,
    isReady: () => ready,
    context:
      responseCache || rateLimit
        ? async (req) => ({
            ...(await baseContext(req)),
            cacheSlot: responseCache?.slotOf(req),
            rateLimit: rateLimit?.slotOf(req),
          })
        : baseContext,
    // Rate limits admit a request before the response cache may answer it (a hit spends its point).
    ...(rateLimit ? { front: rateLimit.front(cacheFront) } : cacheFront ? { front: cacheFront } : {}),
    maxBodyBytes: config.maxBodyBytes,
    ...(config.connections ? { connections: config.connections } : {}),
    ...(config.inputBounds ? { inputBounds: config.inputBounds } : {}),
    ...(config.cors ? { cors: createCors(config.cors) } : {}),
    ...(trusted ? { admit: (body: unknown) => admitTrusted(trusted, body), refusedCode: NOT_TRUSTED } : {}),
  });
  const running = await listen(server, config.port, config.host);
  let admin: RunningServer | undefined;
  try {
    admin = await internal.listen(config.host);
    await apollo.start();
  } catch (error) {
    await running.close(0);
    await admin?.close(0);
    await closeDataSources(dataSources);
    await subscription?.close();
    await cacheStore?.close();
    await rateLimiter?.close();
    await usage?.close();
    throw error;
  }
  ready = true;
  return {
    ...running,
    registry,
    adminUrl: admin?.url,
    ...(usage ? { flushUsage: usage.flush } : {}),
    async stop() {
      ready = false;
      await running.close(10_000);
      await admin?.close(1000);
      await apollo.stop();
      await closeDataSources(dataSources);
      await subscription?.close();
      await cacheStore?.close();
      await rateLimiter?.close();
      await usage?.close();
    },
  };
}
