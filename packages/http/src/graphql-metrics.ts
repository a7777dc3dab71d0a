// Request metrics of a GraphQL front (gateway and every subgraph), per operation:
// `trellis_graphql_requests_total{operation,code}` and
// `trellis_graphql_request_duration_seconds{operation}`.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface GraphQLMetricsOptions {
  registry: Registry;
  /** Distinct operation names tracked; later ones are counted as `other` (label cardinality). @default 200 */
  maxOperations?: number;
}

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** Apollo plugin: one count (with the first error's code, or `OK`) and one duration per request. */
export function createGraphQLMetricsPlugin<TContext extends BaseContext>(
  options: GraphQLMetricsOptions,
): ApolloServerPlugin<TContext> {
  const { registry } = options;
  const maxOperations = options.maxOperations ?? 200;
  const requests =
    (registry.getSingleMetric('trellis_graphql_requests_total') as Counter<'operation' | 'code'> | undefined) ??
    new Counter({
      name: 'trellis_graphql_requests_total',
      help: 'GraphQL requests by operation and outcome (OK, or the first error code)',
      labelNames: ['operation', 'code'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('trellis_graphql_request_duration_seconds') as Histogram<'operation'> | undefined) ??
    new Histogram({
      name: 'trellis_graphql_request_duration_seconds',
      help: 'GraphQL request duration from receipt to response, by operation',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10],
      registers: [registry],
    });
  const seen = new Set<string>();
  const label = (name: string | null | undefined): string => {
    if (!name || !OPERATION_NAME.test(name)) return 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= maxOperations) return 'other';
    seen.add(name);
    return name;
  };
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName, request, document }) {
          // A document that failed validation has no resolved operation: name it from its text.
          const named = document?.definitions.find((d) => d.kind === 'OperationDefinition');
          const fromDocument = named && 'name' in named ? named.name?.value : undefined;
          const operation = label(operationName ?? request.operationName ?? fromDocument);
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const code = errors?.length ? String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'OK';
          requests.labels(operation, code).inc();
          duration.labels(operation).observe((performance.now() - started) / 1000);
        },
      };
    },
  };
}
