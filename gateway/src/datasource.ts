// The gateway's subgraph fetches (buildService): keep-alive pools, deduplication, deadlines, retries, breakers,
// and a concurrency slot per fetch when the subgraph has a limit (subgraph-concurrency.ts).
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ErrorCode } from '@trellis/errors';
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFormattedError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from 'graphql';
import CircuitBreaker from 'opossum';
import { Counter, Gauge, register as globalRegistry, Histogram, type Registry } from 'prom-client';
import { Pool } from 'undici';
import { SubgraphBusyError, type SubgraphConcurrency } from './subgraph-concurrency.ts';

type GatewayResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

export interface RetryPolicy {
  /** Attempts per fetch, the first one included. @default 3 */
  maxAttempts?: number;
  /** Backoff base: the n-th retry waits random(0, min(maxDelayMs, baseDelayMs * 2^n)). @default 25 */
  baseDelayMs?: number;
  /** @default 250 */
  maxDelayMs?: number;
  /** Retries may spend at most this share of requests (token bucket). @default 0.2 */
  budgetRatio?: number;
  /** Retries allowed per second whatever the traffic, so a quiet gateway can still retry. @default 1 */
  minRetriesPerSecond?: number;
}

export interface BreakerPolicy {
  /** Failure percentage over the rolling window that opens the breaker. @default 50 */
  errorThresholdPercentage?: number;
  /** Attempts in the window before the breaker may open at all. @default 10 */
  volumeThreshold?: number;
  /** Time open before one trial attempt (half-open). @default 5000 */
  resetTimeout?: number;
  /** Rolling statistics window. @default 10000 */
  rollingCountTimeout?: number;
  /**
   * While open, GET this path on the subgraph's origin every `probeIntervalMs`; a 200 closes
   * the breaker at once (Trellis subgraphs report ready when their database answers), instead
   * of waiting for the next half-open trial — which, failing just before the subgraph was
   * ready, held traffic off for another `resetTimeout`. Anything else (a subgraph without the
   * route) leaves recovery to the half-open trial. `false`: no probe. @default '/health/ready'
   */
  readinessPath?: string | false;
  /** @default 500 */
  probeIntervalMs?: number;
}

export interface DataSourceOptions {
  /** Subgraph name (metric label, error extension). */
  name: string;
  /** Routing URL. */
  url: string;
  /** Per-fetch deadline, retries and backoff included; keep it below the client's. @default 5000 */
  timeoutMs?: number;
  /** Extra headers for each fetch, from the gateway request context (e.g. a signed identity header). */
  headers?: (context: Record<string, unknown>) => Record<string, string> | undefined;
  /** Retry policy (queries only). */
  retry?: RetryPolicy;
  /** Circuit breaker (opossum), one per data source, so one per subgraph; `false` for none
   * (only to measure what the breaker costs). */
  breaker?: BreakerPolicy | false;
  /** Registry for the metrics (created once per registry, labelled by subgraph). @default prom-client's global registry */
  registry?: Registry;
  /** Share one subgraph request between identical in-flight queries. @default true */
  dedupe?: boolean;
  /**
   * The hint for a response that carries no `Cache-Control` header at all (a subgraph that
   * states no policy), from the gateway request context; see `hintlessDefault`. An explicit
   * header always wins, `no-store` included. @default uncacheable (maxAge 0)
   */
  defaultCacheHint?: (context: Record<string, unknown>) => CacheHint;
  /** Bounds this subgraph's fetches in flight (subgraph-concurrency.ts); a refusal is SUBGRAPH_UNAVAILABLE. @default none */
  concurrency?: SubgraphConcurrency;
}

export interface TrellisDataSource extends GraphQLDataSource {
  readonly name: string;
  readonly url: string;
  /** Stops the breaker's timers and releases the connection pool (destroyed once no data source uses it). */
  close(): Promise<void>;
}

export type FetchOutcome = 'ok' | 'error' | 'timeout' | 'unavailable' | 'deduplicated';
type FailureOutcome = 'error' | 'timeout' | 'unavailable';

/**
 * What a failed fetch becomes: a client-safe GraphQL error (code, subgraph, a fixed message).
 * The underlying error stays on the non-enumerable `cause` for logs, never in the response.
 */
export class SubgraphFetchError extends GraphQLError {
  readonly outcome: FailureOutcome;
  declare readonly cause: unknown;

  constructor(subgraph: string, outcome: FailureOutcome, message: string, code: ErrorCode, cause?: unknown) {
    super(message, { extensions: { code, subgraph } });
    this.outcome = outcome;
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

/** Full-jitter exponential backoff before retry number `retry` (0 for the first retry). */
export function backoffDelay(
  retry: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
}

/**
 * Retry budget as a token bucket: each request deposits `ratio` tokens, each retry spends one,
 * so retries stay under `ratio` of requests once the burst allowance (`cap`) is spent. Time
 * adds `minPerSecond` tokens, so a gateway with little traffic can still retry now and then.
 */
export class RetryBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly cap = 10,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = cap;
    this.last = now();
  }

  deposit(): void {
    this.refill();
    this.tokens = Math.min(this.cap, this.tokens + this.ratio);
  }

  trySpend(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    if (this.minPerSecond > 0) {
      this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) / 1000) * this.minPerSecond);
    }
    this.last = now;
  }
}

// ---------------------------------------------------------------------------------------
// Metrics: created once per registry and shared by every data source on it.

interface Metrics {
  fetches: Counter<'subgraph' | 'outcome'>;
  duration: Histogram<'subgraph'>;
  retries: Counter<'subgraph' | 'reason'>;
  budgetExhausted: Counter<'subgraph'>;
  breakerState: Gauge<'subgraph'>;
}

const metricsByRegistry = new WeakMap<Registry, Metrics>();

function metricsFor(registry: Registry): Metrics {
  let metrics = metricsByRegistry.get(registry);
  if (metrics) return metrics;
  // Another module may have registered them on this registry already: reuse, never re-register.
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const registers = [registry];
  metrics = {
    fetches:
      existing<Counter<'subgraph' | 'outcome'>>('trellis_gateway_subgraph_fetches_total') ??
      new Counter({
        name: 'trellis_gateway_subgraph_fetches_total',
        help: 'Subgraph fetches by outcome (ok, error, timeout, unavailable, deduplicated)',
        labelNames: ['subgraph', 'outcome'],
        registers,
      }),
    duration:
      existing<Histogram<'subgraph'>>('trellis_gateway_subgraph_fetch_duration_seconds') ??
      new Histogram({
        name: 'trellis_gateway_subgraph_fetch_duration_seconds',
        help: 'Subgraph fetch duration as the gateway waits for it, retries included',
        labelNames: ['subgraph'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    retries:
      existing<Counter<'subgraph' | 'reason'>>('trellis_gateway_subgraph_retries_total') ??
      new Counter({
        name: 'trellis_gateway_subgraph_retries_total',
        help: 'Subgraph fetch retries by reason (connection, http_429, http_502, http_503, http_504)',
        labelNames: ['subgraph', 'reason'],
        registers,
      }),
    budgetExhausted:
      existing<Counter<'subgraph'>>('trellis_gateway_subgraph_retry_budget_exhausted_total') ??
      new Counter({
        name: 'trellis_gateway_subgraph_retry_budget_exhausted_total',
        help: 'Retries not made because the retry budget was spent',
        labelNames: ['subgraph'],
        registers,
      }),
    breakerState:
      existing<Gauge<'subgraph'>>('trellis_gateway_subgraph_breaker_state') ??
      new Gauge({
        name: 'trellis_gateway_subgraph_breaker_state',
        help: 'Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open',
        labelNames: ['subgraph'],
        registers,
      }),
  };
  metricsByRegistry.set(registry, metrics);
  return metrics;
}

// ---------------------------------------------------------------------------------------
// Connection pools: one per origin, shared by every data source that routes there.

const pools = new Map<string, { pool: Pool; users: number }>();

function acquirePool(origin: string): Pool {
  let entry = pools.get(origin);
  if (!entry) {
    entry = {
      pool: new Pool(origin, {
        // Keep-alive is the point: a subgraph fetch should never pay for a TCP handshake.
        // undici follows the server's Keep-Alive hint (ours: 65 s) up to keepAliveMaxTimeout.
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        // Bounded so a slow subgraph cannot make the gateway open thousands of sockets; the
        // excess waits in the pool's queue, inside its deadline.
        connections: 256,
        pipelining: 1,
      }),
      users: 0,
    };
    pools.set(origin, entry);
  }
  entry.users++;
  return entry.pool;
}

async function releasePool(origin: string): Promise<void> {
  const entry = pools.get(origin);
  if (!entry) return;
  entry.users--;
  if (entry.users > 0) return;
  pools.delete(origin);
  await entry.pool.destroy();
}

// ---------------------------------------------------------------------------------------
// Failure classification.

/** A response status that is not a GraphQL answer (no `errors`/`data` body, or 429/5xx). */
class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

/** A 2xx whose body is not a GraphQL response. */
class InvalidResponseError extends Error {}

/** Errors that mean the request never got an answer: safe to retry for a query. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return errorCode(cause);
}

type RetryReason = 'connection' | 'http_429' | 'http_502' | 'http_503' | 'http_504';

interface Classified {
  outcome: 'error' | 'unavailable';
  /** Set when a query may be retried. */
  reason?: RetryReason;
  retryAfterMs?: number;
}

function classify(error: unknown): Classified {
  if (error instanceof HttpStatusError) {
    const { status, retryAfterMs } = error;
    if (status === 429 || status === 502 || status === 503 || status === 504) {
      return { outcome: 'unavailable', reason: `http_${status}`, retryAfterMs };
    }
    return { outcome: 'error' };
  }
  if (error instanceof InvalidResponseError) return { outcome: 'error' };
  const code = errorCode(error);
  if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN' || code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return { outcome: 'unavailable' };
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) return { outcome: 'unavailable', reason: 'connection' };
  return { outcome: 'error' };
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The operation type of a fetch. Gateway-built fetches start with the keyword (or `{`), so a
 * regex answers without parsing; anything else is parsed. Unreadable means "mutation": never
 * retried, never shared.
 */
export function operationTypeOf(query: string, operationName?: string | null): 'query' | 'mutation' | 'subscription' {
  const match = /^\s*(?:(query|mutation|subscription)\b|\{)/.exec(query);
  if (match) return (match[1] as 'query' | 'mutation' | 'subscription' | undefined) ?? 'query';
  try {
    const operations = parse(query).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    return operation?.operation ?? 'mutation';
  } catch {
    return 'mutation';
  }
}

// ---------------------------------------------------------------------------------------
// Error paths. @apollo/gateway pushes an error *thrown* by a data source as is, without a
// path (executeQueryPlan.js, executeNode 'Fetch': `context.errors.push(error)`). Errors
// *returned* in the response's `errors` are mapped to the client's paths by the gateway
// itself (downstreamServiceError + makeLazyErrorPathGenerator, which turns
// `_entities.<i>.<field>` into e.g. `products.edges.3.node.inStock`). So for an incoming
// operation a failed fetch is answered with one error per field it would have filled, each
// with its subgraph-side path, and the gateway places them.

function responseNames(
  selectionSet: SelectionSetNode,
  typename: string | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  names: Set<string>,
): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') names.add(selection.alias?.value ?? selection.name.value);
    } else {
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      const condition = fragment?.typeCondition?.name.value;
      if (fragment && (!condition || !typename || condition === typename)) {
        responseNames(fragment.selectionSet, typename, fragments, names);
      }
    }
  }
  return names;
}

/** Subgraph-side paths of the fields a fetch would have filled: `[field]` or `['_entities', i, field]`. */
export function fetchFieldPaths(
  query: string,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): (string | number)[][] {
  let definitions: ReturnType<typeof parse>['definitions'];
  try {
    definitions = parse(query).definitions;
  } catch {
    return [];
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return [];
  const entities = operation.selectionSet.selections.find(
    (s) => s.kind === Kind.FIELD && s.name.value === '_entities' && s.selectionSet,
  );
  const representations = variables?.representations;
  if (entities?.kind === Kind.FIELD && entities.selectionSet && Array.isArray(representations)) {
    const alias = entities.alias?.value ?? '_entities';
    return representations.flatMap((representation, index) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const names = responseNames(
        entities.selectionSet as SelectionSetNode,
        typeof typename === 'string' ? typename : undefined,
        fragments,
        new Set(),
      );
      return [...names].map((name) => [alias, index, name]);
    });
  }
  return [...responseNames(operation.selectionSet, undefined, fragments, new Set())].map((name) => [name]);
}

function failureResponse(
  error: SubgraphFetchError,
  request: GraphQLDataSourceProcessOptions['request'],
): GatewayResponse {
  const base: GraphQLFormattedError = { message: error.message, extensions: { ...error.extensions } };
  const paths = fetchFieldPaths(request.query ?? '', request.operationName, request.variables);
  return { errors: paths.length ? paths.map((path) => ({ ...base, path })) : [base] };
}

// ---------------------------------------------------------------------------------------
// The data source.

interface Settled {
  /** The body as received: what deduplicated callers parse for their own copy. */
  text: string;
  parsed: GatewayResponse;
  /** The subgraph's cache policy from its Cache-Control header; undefined without one. */
  cacheHint: CacheHint | undefined;
}

export interface CacheHint {
  maxAge: number;
  scope?: 'PUBLIC' | 'PRIVATE';
}

/**
 * Reads a subgraph's `Cache-Control` (`max-age=N, public|private`). A response without a
 * max-age is uncacheable (maxAge 0), as with Apollo's own data source.
 */
export function parseCacheControl(header: string | string[] | undefined): CacheHint {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(value);
  if (!maxAge || /no-store|no-cache/i.test(value)) return { maxAge: 0 };
  return { maxAge: Number(maxAge[1]), ...(/\bprivate\b/i.test(value) ? { scope: 'PRIVATE' as const } : {}) };
}

/**
 * The opt-in default for subgraphs that send no `Cache-Control` (SUBGRAPH_DEFAULT_MAX_AGE):
 * `maxAge` seconds, PUBLIC only for an anonymous request (no user, no scopes: nothing in the
 * subgraph request can vary by caller), PRIVATE otherwise (keyed by the user; an identity
 * without a user id is then not stored at all).
 */
export function hintlessDefault(maxAge: number): (context: Record<string, unknown>) => CacheHint {
  return (context) => {
    const viewer = (context as { viewer?: { userId?: string | null; scopes?: readonly string[] } }).viewer;
    const anonymous = !viewer || (viewer.userId == null && (viewer.scopes?.length ?? 0) === 0);
    return { maxAge, scope: anonymous ? 'PUBLIC' : 'PRIVATE' };
  };
}

const UNCACHEABLE: CacheHint = { maxAge: 0 };

function isGraphQLResponse(value: unknown): value is GatewayResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { data, errors } = value as { data?: unknown; errors?: unknown };
  return data !== undefined || Array.isArray(errors);
}

/** Merges a fetch's hint into the request's policy: the most restrictive hint wins. */
function restrictCachePolicy(options: object, hint: CacheHint): void {
  const incoming = (
    options as { incomingRequestContext?: { overallCachePolicy?: { restrict(hint: CacheHint): void } } }
  ).incomingRequestContext;
  incoming?.overallCachePolicy?.restrict(hint);
}

/**
 * Moves a subgraph's entity report (`extensions.trellis`, see subgraph-kit entity-tags) into
 * the request's cache tags — when the response cache asked for them — and off the result.
 */
function collectEntityTags(options: { context?: unknown }, result: GatewayResponse): void {
  const extensions = result.extensions as { trellis?: { entities?: unknown; overflow?: unknown } } | undefined;
  const report = extensions?.trellis;
  if (!report) return;
  delete extensions.trellis;
  const tags = (options.context as { cacheTags?: Set<string> } | undefined)?.cacheTags;
  if (!tags) return;
  if (Array.isArray(report.entities)) {
    for (const entity of report.entities) {
      if (typeof entity !== 'string') continue;
      tags.add(entity);
      const colon = entity.indexOf(':');
      if (colon > 0) tags.add(entity.slice(0, colon));
    }
  }
  if (Array.isArray(report.overflow)) {
    for (const typename of report.overflow) {
      if (typeof typename !== 'string') continue;
      tags.add(typename);
      tags.add(`${typename}:*`);
    }
  }
}

const live = new Set<TrellisDataSource>();

const tracer = trace.getTracer('@trellis/gateway');

interface InFlight {
  settled: Promise<Settled>;
  /** The span of the fetch that went out: deduplicated fetches link to it. */
  span: Span;
}

export function createDataSource(options: DataSourceOptions): TrellisDataSource {
  const { name } = options;
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    throw new Error(`Subgraph "${name}" has no valid routing URL (${JSON.stringify(options.url)})`);
  }
  const origin = target.origin;
  const path = `${target.pathname}${target.search}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const extraHeaders = options.headers;
  const hintless = options.defaultCacheHint ?? (() => UNCACHEABLE);
  const dedupe = options.dedupe ?? true;
  const retry = {
    maxAttempts: Math.max(1, options.retry?.maxAttempts ?? 3),
    baseDelayMs: options.retry?.baseDelayMs ?? 25,
    maxDelayMs: options.retry?.maxDelayMs ?? 250,
  };
  const budget = new RetryBudget(options.retry?.budgetRatio ?? 0.2, options.retry?.minRetriesPerSecond ?? 1);

  const metrics = metricsFor(options.registry ?? globalRegistry);
  // Labelled children resolved once: the hot path only increments.
  const outcomes: Record<FetchOutcome, ReturnType<Metrics['fetches']['labels']>> = {
    ok: metrics.fetches.labels(name, 'ok'),
    error: metrics.fetches.labels(name, 'error'),
    timeout: metrics.fetches.labels(name, 'timeout'),
    unavailable: metrics.fetches.labels(name, 'unavailable'),
    deduplicated: metrics.fetches.labels(name, 'deduplicated'),
  };
  for (const child of Object.values(outcomes)) child.inc(0);
  const duration = metrics.duration.labels(name);
  const budgetExhausted = metrics.budgetExhausted.labels(name);
  budgetExhausted.inc(0);
  const breakerState = metrics.breakerState.labels(name);
  breakerState.set(0);

  const pool = acquirePool(origin);
  const breakerPolicy = options.breaker || {};
  const breaker = new CircuitBreaker<[() => Promise<Settled>], Settled>((attempt) => attempt(), {
    name: `subgraph:${name}`,
    // The deadline is ours (it covers retries and backoff); opossum only counts outcomes.
    timeout: false,
    errorThresholdPercentage: breakerPolicy.errorThresholdPercentage ?? 50,
    volumeThreshold: breakerPolicy.volumeThreshold ?? 10,
    resetTimeout: breakerPolicy.resetTimeout ?? 5000,
    rollingCountTimeout: breakerPolicy.rollingCountTimeout ?? 10_000,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // The subgraph answered: a 4xx (or 429) is the request's problem, not the subgraph's
    // health. Connection errors, timeouts, 5xx and unreadable bodies count.
    errorFilter: (error: unknown) => error instanceof HttpStatusError && error.status < 500,
  });
  const readinessPath = breakerPolicy.readinessPath ?? '/health/ready';
  let readinessProbe: NodeJS.Timeout | undefined;
  const stopProbe = () => {
    clearInterval(readinessProbe);
    readinessProbe = undefined;
  };
  const probeReadiness = async (path: string) => {
    try {
      const response = await pool.request({
        path,
        method: 'GET',
        signal: AbortSignal.timeout(1000),
      });
      await response.body.dump();
      if (response.statusCode === 200 && (breaker.opened || breaker.halfOpen) && !closed) breaker.close();
    } catch {
      // Still down: the next tick (or the half-open trial) tries again.
    }
  };
  breaker.on('open', () => {
    breakerState.set(2);
    if (readinessPath !== false && !readinessProbe && !closed) {
      readinessProbe = setInterval(() => void probeReadiness(readinessPath), breakerPolicy.probeIntervalMs ?? 500);
      readinessProbe.unref();
    }
  });
  breaker.on('halfOpen', () => breakerState.set(1));
  breaker.on('close', () => {
    breakerState.set(0);
    stopProbe();
  });

  const inflight = new Map<string, InFlight>();
  let closed = false;

  const unavailable = (cause?: unknown, outcome: 'error' | 'unavailable' = 'unavailable') =>
    new SubgraphFetchError(name, outcome, `Subgraph "${name}" is unavailable`, ErrorCode.SUBGRAPH_UNAVAILABLE, cause);

  async function attempt(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Settled> {
    const response = await pool.request({ path, method: 'POST', headers, body, signal });
    const status = response.statusCode;
    if (status >= 500 || status === 429) {
      await response.body.dump();
      throw new HttpStatusError(status, status === 429 ? parseRetryAfter(response.headers['retry-after']) : undefined);
    }
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // A 4xx carrying GraphQL errors (e.g. a 400 validation failure) is an answer: pass it on.
    if (isGraphQLResponse(parsed)) {
      const header = response.headers['cache-control'];
      return { text, parsed, cacheHint: header === undefined ? undefined : parseCacheControl(header) };
    }
    throw status >= 300 ? new HttpStatusError(status) : new InvalidResponseError();
  }

  /** One logical fetch: attempts through the breaker, retries for queries, all inside the deadline. */
  async function fetchWithPolicy(
    body: string,
    headers: Record<string, string>,
    retryable: boolean,
    span: Span,
  ): Promise<Settled> {
    const deadline = performance.now() + timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    budget.deposit();
    try {
      for (let attemptNo = 0; ; attemptNo++) {
        let failure: Classified;
        let cause: unknown;
        try {
          return await (options.breaker === false
            ? attempt(body, headers, controller.signal)
            : breaker.fire(() => attempt(body, headers, controller.signal)));
        } catch (error) {
          if (controller.signal.aborted) throw timedOut(error);
          failure = classify(error);
          cause = error;
        }
        // The client sees the same message either way; the outcome label tells them apart.
        const final = () => unavailable(cause, failure.outcome);
        if (!retryable || !failure.reason || attemptNo + 1 >= retry.maxAttempts) throw final();
        const remaining = deadline - performance.now();
        let delay: number;
        if (failure.retryAfterMs !== undefined) {
          // The subgraph asked for a pause: never retry before it if the request cannot wait
          // that long; otherwise wait, but no longer than our own backoff cap.
          if (failure.retryAfterMs >= remaining) throw final();
          delay = Math.min(failure.retryAfterMs, retry.maxDelayMs);
        } else {
          delay = backoffDelay(attemptNo, retry);
        }
        // A retry that would start after the deadline is a timeout in disguise: fail now.
        if (delay >= remaining) throw final();
        if (!budget.trySpend()) {
          budgetExhausted.inc();
          throw final();
        }
        metrics.retries.labels(name, failure.reason).inc();
        span.addEvent('retry', { 'trellis.retry.reason': failure.reason, 'trellis.retry.delay_ms': delay });
        try {
          await sleep(delay, controller.signal);
        } catch (error) {
          throw timedOut(error);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** One logical fetch, in a concurrency slot when the subgraph has a limit. */
  const limitedFetch = (body: string, headers: Record<string, string>, retryable: boolean, span: Span) =>
    options.concurrency
      ? options.concurrency
          .run(() => fetchWithPolicy(body, headers, retryable, span))
          .catch((error: unknown) => {
            throw error instanceof SubgraphBusyError ? unavailable(error) : error;
          })
      : fetchWithPolicy(body, headers, retryable, span);

  const timedOut = (cause: unknown) =>
    new SubgraphFetchError(
      name,
      'timeout',
      `Subgraph "${name}" did not answer within ${timeoutMs} ms`,
      ErrorCode.TIMEOUT,
      cause,
    );

  function requestHeaders(
    forwarded: Iterable<[string, string]> | undefined,
    context: Record<string, unknown>,
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    // Only what the gateway itself asked for (e.g. the federated-trace header): nothing else
    // of the client's request is forwarded.
    if (forwarded) for (const [key, value] of forwarded) headers[key.toLowerCase()] = value;
    const extra = extraHeaders?.(context);
    if (extra) for (const key of Object.keys(extra)) headers[key.toLowerCase()] = extra[key] as string;
    headers['content-type'] = 'application/json';
    return headers;
  }

  const source: TrellisDataSource = {
    name,
    url: options.url,
    async process(processOptions) {
      const started = performance.now();
      const { request } = processOptions;
      let outcome: FetchOutcome = 'error';
      // One CLIENT span per fetch, under the gateway's own fetch span; the subgraph's server
      // span continues it through the injected traceparent. In a trace that is not sampled
      // the (non-recording) parent is propagated as is: same trace id and decision, no span.
      const parent = trace.getActiveSpan();
      const span =
        parent && !parent.isRecording()
          ? parent
          : tracer.startSpan(`fetch ${name}`, {
              kind: SpanKind.CLIENT,
              attributes: {
                'trellis.subgraph': name,
                'server.address': target.hostname,
                'url.full': options.url,
                ...(request.operationName ? { 'graphql.operation.name': request.operationName } : {}),
              },
            });
      /** The headers sent: trace context added after the deduplication key is taken. */
      const traced = (headers: Record<string, string>): Record<string, string> => {
        const sent = { ...headers };
        propagation.inject(trace.setSpan(context.active(), span), sent);
        return sent;
      };
      try {
        if (closed) throw unavailable();
        const query = request.query;
        if (!query) throw new Error(`Subgraph "${name}": a fetch without a query`);
        // Serialized once: the same string is the request body and the deduplication key.
        const body = JSON.stringify({
          query,
          operationName: request.operationName,
          variables: request.variables,
          extensions: request.extensions,
        });
        const headers = requestHeaders(request.http?.headers, processOptions.context ?? {});
        const isQuery = operationTypeOf(query, request.operationName) === 'query';
        let result: GatewayResponse;
        if (isQuery && dedupe) {
          // Keyed by body and every header we send (the URL is this data source's), so two
          // identities never share an answer.
          let key = '';
          for (const header of Object.keys(headers)) key += `${header}:${headers[header]}\n`;
          key += body;
          const shared = inflight.get(key);
          if (shared) {
            outcome = 'deduplicated';
            // No request of its own: the span links to the one that went out (another trace).
            span.setAttribute('trellis.fetch.deduplicated', true);
            span.addLink({ context: shared.span.spanContext() });
            // Each caller gets its own objects: the gateway merges into and rewrites fetch results.
            const settled = await shared.settled;
            restrictCachePolicy(processOptions, settled.cacheHint ?? hintless(processOptions.context ?? {}));
            const copy = JSON.parse(settled.text) as GatewayResponse;
            collectEntityTags(processOptions, copy);
            return copy;
          }
          const fetching = limitedFetch(body, traced(headers), true, span);
          inflight.set(key, { settled: fetching, span });
          // In flight only: the entry goes as soon as the fetch settles, whatever the result.
          const forget = () => inflight.delete(key);
          fetching.then(forget, forget);
          const settled = await fetching;
          restrictCachePolicy(processOptions, settled.cacheHint ?? hintless(processOptions.context ?? {}));
          result = settled.parsed;
        } else {
          const settled = await limitedFetch(body, traced(headers), isQuery, span);
          restrictCachePolicy(processOptions, settled.cacheHint ?? hintless(processOptions.context ?? {}));
          result = settled.parsed;
        }
        collectEntityTags(processOptions, result);
        outcome = 'ok';
        return result;
      } catch (error) {
        if (!(error instanceof SubgraphFetchError)) throw error;
        if (outcome !== 'deduplicated') outcome = error.outcome;
        // Kind INCOMING_OPERATION (the enum is not exported by @apollo/gateway): only it carries
        // the incoming request, and only there can the gateway place field errors.
        if ('incomingRequestContext' in processOptions) {
          return failureResponse(error, request);
        }
        throw error;
      } finally {
        outcomes[outcome].inc();
        duration.observe((performance.now() - started) / 1000);
        if (span !== parent) {
          span.setAttribute('trellis.fetch.outcome', outcome);
          if (outcome !== 'ok' && outcome !== 'deduplicated') {
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          }
          span.end();
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      live.delete(source);
      stopProbe();
      breaker.shutdown();
      await releasePool(origin);
    },
  };
  live.add(source);
  return source;
}

/** Closes the given data sources, or every one still open in this process. */
export async function closeDataSources(sources: Iterable<TrellisDataSource> = live): Promise<void> {
  await Promise.all([...sources].map((source) => source.close()));
}
