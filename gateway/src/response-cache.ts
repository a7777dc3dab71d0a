// Whole-response caching at the gateway, driven by the merged cache hints: Apollo's
// response-cache plugin on our guarded KeyValueCache (@trellis/cache). PRIVATE responses are
// keyed by the verified user id and never served to anyone else (anonymous private answers
// are not stored); PUBLIC ones are shared. Only successful queries are stored. A client
// sending `Cache-Control: no-cache` skips the read (the fresh answer is stored). Responses
// that went through the cache say so: `x-cache: HIT|MISS` and `age`.
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import type { KeyValueCache } from '@trellis/cache';
import { Counter, type Registry } from 'prom-client';
import type { GatewayContext } from './identity.ts';

function bypassed(context: GraphQLRequestContext<GatewayContext>): boolean {
  const header = context.request.http?.headers.get('cache-control') ?? '';
  return /\bno-cache\b|\bno-store\b/i.test(header);
}

export function createResponseCachePlugins(
  cache: KeyValueCache<string>,
  registry: Registry,
): ApolloServerPlugin<GatewayContext>[] {
  const results =
    (registry.getSingleMetric('trellis_gateway_response_cache_total') as Counter<'result'> | undefined) ??
    new Counter({
      name: 'trellis_gateway_response_cache_total',
      help: 'Gateway responses by response-cache result (hit, miss, bypass)',
      labelNames: ['result'],
      registers: [registry],
    });
  const cachePlugin = ApolloServerPluginResponseCache<GatewayContext>({
    cache,
    sessionId: async ({ contextValue }) => contextValue.viewer.userId,
    shouldReadFromCache: async (context) => !bypassed(context),
  });
  const headers: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async willSendResponse(context) {
          if (context.operation?.operation !== 'query' || context.response.body.kind !== 'single') return;
          const http = context.response.http;
          if (context.metrics.responseCacheHit) {
            http.headers.set('x-cache', 'HIT');
            results.inc({ result: 'hit' });
            return;
          }
          http.headers.set('x-cache', 'MISS');
          if (!http.headers.has('age')) http.headers.set('age', '0');
          results.inc({ result: bypassed(context) ? 'bypass' : 'miss' });
        },
      };
    },
  };
  // The header plugin only reads the hit flag, set before execution, so order does not matter.
  return [cachePlugin, headers];
}
