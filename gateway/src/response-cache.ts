// Whole-response caching at the gateway, driven by the merged cache hints: Apollo's
// response-cache plugin on our guarded KeyValueCache (@trellis/cache). PRIVATE responses are
// keyed by the verified user id and never served to anyone else (anonymous private answers
// are not stored); PUBLIC ones are shared. Only successful queries are stored. A client
// sending `Cache-Control: no-cache` skips the read (the fresh answer is stored). Responses
// that went through the cache say so: `x-cache: HIT|MISS` and `age`.
//
// Every stored entry is tagged with the entities its subgraphs reported (datasource.ts moves
// them into `cacheTags`); `invalidate()` drops the entries holding an entity or a type. An
// answer computed before an invalidation of one of its entities arrived is not stored, so a
// read racing a write cannot put the old state back after the purge.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import { trace } from '@opentelemetry/api';
import type { CacheStore, KeyValueCache } from '@trellis/cache';
import { type InvalidationBatch, tagsToPurge } from '@trellis/cache/invalidation';
import { Counter, type Registry } from 'prom-client';
import type { GatewayContext } from './identity.ts';

function bypassed(context: GraphQLRequestContext<GatewayContext>): boolean {
  const header = context.request.http?.headers.get('cache-control') ?? '';
  return /\bno-cache\b|\bno-store\b/i.test(header);
}

/** Where an invalidation came from (metric label). */
export type InvalidationSource = 'pubsub' | 'outbox' | 'admin';

export interface ResponseCache {
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** Drops every entry holding one of the batch's entities or types; resolves to the entries deleted. */
  invalidate(batch: InvalidationBatch, source: InvalidationSource): Promise<number>;
}

/** How long an invalidation is remembered against in-flight answers (longer than any request). */
const REMEMBER_MS = 60_000;

function counter<T extends string>(registry: Registry, name: string, help: string, labelNames: T[]): Counter<T> {
  return (
    (registry.getSingleMetric(name) as Counter<T> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

export function createResponseCache(store: CacheStore, registry: Registry): ResponseCache {
  const results = counter(
    registry,
    'trellis_gateway_response_cache_total',
    'Gateway responses by response-cache result (hit, miss, bypass, store, stale)',
    ['result'],
  );
  const invalidations = counter(
    registry,
    'trellis_gateway_cache_invalidations_total',
    'Cache invalidation batches applied, by source (pubsub, outbox, admin)',
    ['source'],
  );
  const purged = counter(
    registry,
    'trellis_gateway_cache_purged_entries_total',
    'Cached responses deleted by invalidations',
    [],
  );
  purged.inc(0);

  /** Tag → when it was last invalidated (ms), to refuse storing answers older than that. */
  const invalidatedAt = new Map<string, number>();
  const prune = (now: number) => {
    for (const [tag, at] of invalidatedAt) if (at < now - REMEMBER_MS) invalidatedAt.delete(tag);
  };

  /** Entries about to be written (key as the store sees it) → their tags and request start. */
  const pending = new Map<string, { tags: string[]; startedAt: number }>();
  const started = new WeakMap<GatewayContext, number>();

  // The store the plugin writes through: tags go into the index before the entry is written.
  const tagged: KeyValueCache<string> = {
    get: (key) => store.cache.get(key),
    delete: (key) => store.cache.delete(key),
    async set(key, value, options) {
      const write = pending.get(key);
      pending.delete(key);
      if (write) {
        if (write.tags.some((tag) => (invalidatedAt.get(tag) ?? 0) >= write.startedAt)) {
          results.inc({ result: 'stale' });
          return;
        }
        await store.tag(key, write.tags, options?.ttl ?? 0);
      }
      await store.cache.set(key, value, options);
      results.inc({ result: 'store' });
    },
  };

  const cachePlugin = ApolloServerPluginResponseCache<GatewayContext>({
    cache: tagged,
    sessionId: async ({ contextValue }) => contextValue.viewer.userId,
    shouldReadFromCache: async (context) => !bypassed(context),
    generateCacheKey(context, keyData) {
      const key = createHash('sha256').update(JSON.stringify(keyData)).digest('hex');
      // Called again right before the write, once the fetches reported their entities.
      const contextValue = context.contextValue as GatewayContext;
      const tags = contextValue.cacheTags;
      if (tags && tags.size > 0) {
        pending.set(`fqc:${key}`, { tags: [...tags], startedAt: started.get(contextValue) ?? 0 });
      }
      return key;
    },
  });

  const headers: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      contextValue.cacheTags = new Set();
      started.set(contextValue, Date.now());
      return {
        async willSendResponse(context) {
          if (context.operation?.operation !== 'query' || context.response.body.kind !== 'single') return;
          const http = context.response.http;
          const span = trace.getActiveSpan();
          const policy = context.overallCachePolicy.policyIfCacheable();
          let result: 'hit' | 'miss' | 'bypass';
          if (context.metrics.responseCacheHit) {
            http.headers.set('x-cache', 'HIT');
            result = 'hit';
          } else {
            http.headers.set('x-cache', 'MISS');
            if (!http.headers.has('age')) http.headers.set('age', '0');
            result = bypassed(context) ? 'bypass' : 'miss';
          }
          results.inc({ result });
          span?.setAttributes({
            'trellis.cache.result': result,
            'trellis.cache.key_scope': policy ? (policy.scope ?? 'PUBLIC') : 'UNCACHEABLE',
            'trellis.cache.tags': context.contextValue.cacheTags?.size ?? 0,
          });
        },
      };
    },
  };

  return {
    // The header plugin only reads the hit flag, set before execution, so order does not matter.
    plugins: [headers, cachePlugin],
    async invalidate(batch, source) {
      const tags = tagsToPurge(batch);
      const now = Date.now();
      if (invalidatedAt.size > 10_000) prune(now);
      for (const tag of tags) invalidatedAt.set(tag, now);
      const deleted = await store.purge(tags);
      invalidations.inc({ source });
      purged.inc(deleted);
      trace.getActiveSpan()?.setAttributes({
        'trellis.cache.invalidation_source': source,
        'trellis.cache.purged_entries': deleted,
      });
      return deleted;
    },
  };
}
