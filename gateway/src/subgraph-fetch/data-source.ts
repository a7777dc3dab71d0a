// The gateway's subgraph data source (buildService): composes the fetch path's concerns —
// a keep-alive pool (pools.ts), in-flight deduplication (dedupe.ts), a deadline
// (withTimeout), retries within a budget (retry.ts), a breaker (breaker.ts), a concurrency
// slot when the subgraph has a limit (concurrency.ts), cache hints and entity tags
// (cache-hints.ts, entity-tags.ts), client-safe errors at field paths (errors.ts), metrics
// (metrics.ts) and a span per fetch (tracing.ts).
import type { GraphQLDataSource } from '@apollo/gateway';
import type { Span } from '@opentelemetry/api';
import { TimeoutError, withTimeout } from '@trellis/resilience';
import { register as globalRegistry, type Registry } from 'prom-client';
import { createSubgraphBreaker, type SubgraphBreakerPolicy } from './breaker.ts';
import { type CacheHint, restrictCachePolicy, UNCACHEABLE } from './cache-hints.ts';
import { SubgraphBusyError, type SubgraphConcurrency } from './concurrency.ts';
import { dedupeKey, InFlightFetches } from './dedupe.ts';
import { collectEntityTags } from './entity-tags.ts';
import {
  type FetchOutcome,
  failureResponse,
  type GatewayResponse,
  SubgraphFetchError,
  timeoutError,
  unavailableError,
} from './errors.ts';
import { fetchMetrics } from './metrics.ts';
import { operationTypeOf } from './operation.ts';
import { acquirePool, releasePool } from './pools.ts';
import { postGraphQL, type Settled } from './request.ts';
import { createRetrier, type SubgraphRetryPolicy, withRetries } from './retry.ts';
import { endFetchSpan, startFetchSpan, tracedHeaders } from './tracing.ts';

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
  retry?: SubgraphRetryPolicy;
  /** Circuit breaker (opossum), one per data source, so one per subgraph; `false` for none
   * (only to measure what the breaker costs). */
  breaker?: SubgraphBreakerPolicy | false;
  /** Registry for the metrics (created once per registry, labelled by subgraph). @default prom-client's global registry */
  registry?: Registry;
  /** Share one subgraph request between identical in-flight queries (SUBGRAPH_DEDUP). @default true */
  dedupe?: boolean;
  /**
   * The hint for a response that carries no `Cache-Control` header at all (a subgraph that
   * states no policy), from the gateway request context; see `hintlessDefault`. An explicit
   * header always wins, `no-store` included. @default uncacheable (maxAge 0)
   */
  defaultCacheHint?: (context: Record<string, unknown>) => CacheHint;
  /** Bounds this subgraph's fetches in flight (concurrency.ts); a refusal is SUBGRAPH_UNAVAILABLE. @default none */
  concurrency?: SubgraphConcurrency;
}

export interface TrellisDataSource extends GraphQLDataSource {
  readonly name: string;
  readonly url: string;
  /** Stops the breaker's timers and releases the connection pool (destroyed once no data source uses it). */
  close(): Promise<void>;
}

const live = new Set<TrellisDataSource>();

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
  const retrier = createRetrier(options.retry);
  const registry = options.registry ?? globalRegistry;
  const metrics = fetchMetrics(registry, name);
  const pool = acquirePool(origin);
  // Built (and its gauge reported) even when unused, so every subgraph has its series.
  const breaker = createSubgraphBreaker(name, options.breaker || {}, pool, registry);
  const inflight = new InFlightFetches();
  let closed = false;

  const unavailable = (cause?: unknown) => unavailableError(name, cause);

  /** One logical fetch: attempts through the breaker, retries for queries, all inside the deadline. */
  async function fetchWithPolicy(
    body: string,
    headers: Record<string, string>,
    retryable: boolean,
    span: Span,
  ): Promise<Settled> {
    const deadline = performance.now() + timeoutMs;
    retrier.budget.deposit();
    try {
      return await withTimeout(
        (signal) => {
          const attempt = () => postGraphQL(pool, path, headers, body, signal);
          return withRetries(
            retrier,
            {
              retryable,
              deadline,
              signal,
              // The client sees the same message either way; the outcome label tells them apart.
              fail: (failure, cause) => unavailableError(name, cause, failure.outcome),
              onRetry: (reason, delay) => {
                metrics.retried(reason);
                span.addEvent('retry', { 'trellis.retry.reason': reason, 'trellis.retry.delay_ms': delay });
              },
              onBudgetExhausted: () => metrics.budgetExhausted.inc(),
            },
            options.breaker === false ? attempt : () => breaker.fire(attempt),
          );
        },
        timeoutMs,
        `subgraph ${name}`,
      );
    } catch (error) {
      throw error instanceof TimeoutError ? timeoutError(name, timeoutMs, error) : error;
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
      const fetchSpan = startFetchSpan(name, target, options.url, request.operationName);
      const { span } = fetchSpan;
      const settle = (settled: Settled) =>
        restrictCachePolicy(processOptions, settled.cacheHint ?? hintless(processOptions.context ?? {}));
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
          const key = dedupeKey(headers, body);
          const shared = inflight.get(key);
          if (shared) {
            outcome = 'deduplicated';
            // No request of its own: the span links to the one that went out (another trace).
            span.setAttribute('trellis.fetch.deduplicated', true);
            span.addLink({ context: shared.span.spanContext() });
            // Each caller gets its own objects: the gateway merges into and rewrites fetch results.
            const settled = await shared.settled;
            settle(settled);
            const copy = JSON.parse(settled.text) as GatewayResponse;
            collectEntityTags(processOptions, copy);
            return copy;
          }
          const fetching = limitedFetch(body, tracedHeaders(span, headers), true, span);
          inflight.add(key, { settled: fetching, span });
          const settled = await fetching;
          settle(settled);
          result = settled.parsed;
        } else {
          const settled = await limitedFetch(body, tracedHeaders(span, headers), isQuery, span);
          settle(settled);
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
        metrics.outcomes[outcome].inc();
        metrics.duration.observe((performance.now() - started) / 1000);
        endFetchSpan(fetchSpan, outcome);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      live.delete(source);
      breaker.close();
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
