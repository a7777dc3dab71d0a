// Inbound in-flight deduplication (OPERATION_DEDUP, on by default): identical queries in flight
// at once share one execution of their query plan, as request coalescing does in front of an
// origin (and as Hive Router's `traffic_shaping.router.dedupe` does). Each request still runs
// everything of its own: parsing and validation, limits, authorization, rate limits, access log,
// metrics, usage; only the executor's work — planning, subgraph fetches, merging and shaping
// the result — is shared. Its outbound sibling, SUBGRAPH_DEDUP (subgraph-fetch/dedupe.ts), shares
// single subgraph fetches between executions.
//
// Identical means: the same schema, document (Apollo's query hash), operation name and
// variables, the same viewer and every header the gateway sends the subgraphs (the signed
// viewer), and the same wish for entity tags (the response cache's). Only queries are shared.
//
// Read-your-writes: a mutation that completes through this gateway starts a new epoch, and a
// query never joins an execution that began in an earlier epoch, so a client that saw its
// write acknowledged never reads an answer computed before it.
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { type Link, type SpanContext, trace } from '@opentelemetry/api';
import { registeredMetric } from '@trellis/telemetry/metrics';
import type { GraphQLSchema } from 'graphql';
import { Counter, type Registry } from 'prom-client';

type ExecutionResult = Awaited<ReturnType<GatewayExecutor>>;

/** What a shared execution leaves behind for its followers besides the result. */
interface Execution {
  result: ExecutionResult;
  /** The leader's cache policy once the plan ran: the subgraphs' hints restricted it. */
  policy: { maxAge?: number; scope?: string };
  /** Entity tags the subgraphs reported (collected into the leader's context). */
  tags: string[] | undefined;
}

interface InFlight {
  settled: Promise<Execution>;
  span: SpanContext | undefined;
}

interface DedupeContext {
  viewer?: { userId: string | null; scopes: readonly string[] };
  subgraphHeaders?: Record<string, string>;
  cacheTags?: Set<string>;
}

export interface OperationDedupeOptions {
  registry: Registry;
}

/** The gateway with its executor wrapped: identical in-flight queries share one execution. */
export function withOperationDedupe(gateway: GatewayInterface, options: OperationDedupeOptions): GatewayInterface {
  const coalesce = createCoalescer(options);
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      return { ...loaded, executor: loaded.executor ? coalesce(loaded.executor) : null };
    },
  };
}

export function createCoalescer(options: OperationDedupeOptions): (executor: GatewayExecutor) => GatewayExecutor {
  const coalesced = registeredMetric(
    options.registry,
    'trellis_gateway_operations_coalesced_total',
    () =>
      new Counter({
        name: 'trellis_gateway_operations_coalesced_total',
        help: 'Queries answered by an identical execution already in flight (OPERATION_DEDUP), not executed themselves',
        registers: [options.registry],
      }),
  );
  coalesced.inc(0);
  const inflight = new Map<string, InFlight>();
  const schemaIds = new WeakMap<GraphQLSchema, number>();
  let schemas = 0;
  let epoch = 0;

  const schemaId = (schema: GraphQLSchema) => {
    let id = schemaIds.get(schema);
    if (id === undefined) {
      schemas += 1;
      id = schemas;
      schemaIds.set(schema, id);
    }
    return id;
  };

  return (executor) => async (requestContext) => {
    const kind = requestContext.operation.operation;
    if (kind === 'mutation') {
      try {
        return await executor(requestContext);
      } finally {
        epoch += 1;
      }
    }
    if (kind !== 'query') return executor(requestContext);

    const context = requestContext.context as DedupeContext;
    const key = executionKey(requestContext, schemaId(requestContext.schema), epoch);
    const span = trace.getActiveSpan();
    const shared = inflight.get(key);
    if (shared) {
      coalesced.inc();
      if (span) {
        span.setAttribute('trellis.operation.coalesced', true);
        if (shared.span) span.addLink({ context: shared.span } satisfies Link);
      }
      return follow(await shared.settled, requestContext, context);
    }

    const settled = executor(requestContext).then(
      (result): Execution => ({
        result,
        policy: { maxAge: requestContext.overallCachePolicy.maxAge, scope: requestContext.overallCachePolicy.scope },
        tags: context.cacheTags ? [...context.cacheTags] : undefined,
      }),
    );
    const entry: InFlight = { settled, span: span?.spanContext() };
    inflight.set(key, entry);
    const forget = () => {
      if (inflight.get(key) === entry) inflight.delete(key);
    };
    settled.then(forget, forget);
    return (await settled).result;
  };
}

/**
 * What makes two queries' executions interchangeable. Variables are serialised as sent: the
 * HTTP edge has bounded their depth and size (packages/http input bounds) before they get here.
 */
function executionKey(requestContext: GatewayGraphQLRequestContext, schema: number, epoch: number): string {
  const context = requestContext.context as DedupeContext;
  const viewer = context.viewer;
  let key = `${schema}\n${epoch}\n${requestContext.queryHash}\n${requestContext.operationName ?? ''}\n${context.cacheTags ? 't' : '-'}\n`;
  if (viewer) key += `${viewer.userId ?? ''}|${viewer.scopes.join(' ')}\n`;
  const headers = context.subgraphHeaders;
  if (headers) for (const name of Object.keys(headers)) key += `${name}:${headers[name]}\n`;
  return `${key}\n${JSON.stringify(requestContext.request.variables ?? {})}`;
}

/** A follower's own copy of what the leader's execution produced. */
function follow(
  execution: Execution,
  requestContext: GatewayGraphQLRequestContext,
  context: DedupeContext,
): ExecutionResult {
  requestContext.overallCachePolicy.restrict(execution.policy);
  if (execution.tags && context.cacheTags) for (const tag of execution.tags) context.cacheTags.add(tag);
  const { result } = execution;
  // `data` is shared read-only (serialised per response); the containers plugins may rewrite
  // (errors, extensions) are each request's own.
  return {
    ...result,
    ...(result.errors ? { errors: [...result.errors] } : {}),
    ...(result.extensions ? { extensions: { ...result.extensions } } : {}),
  };
}
