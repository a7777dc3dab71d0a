// Request metrics of a GraphQL front (gateway and every subgraph), per operation and client:
// `trellis_graphql_requests_total{operation,code,client}` and
// `trellis_graphql_request_duration_seconds{operation,client}`. Both label sets are bounded
// (operation names and client names beyond their caps are `other`).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { batchedCounter, registeredMetric } from '@trellis/telemetry/metrics';
import { Histogram, type Registry } from 'prom-client';
import {
  CLIENT_NAME_HEADER,
  CLIENT_VERSION_HEADER,
  type ClientIdentity,
  type ClientLabelOptions,
  createClientLabeler,
  parseClientIdentity,
} from './client-identity.ts';

export interface GraphQLMetricsOptions {
  registry: Registry;
  /** Distinct operation names tracked; later ones are counted as `other` (label cardinality). @default 200 */
  maxOperations?: number;
  /** Which client names get their own `client` label (client-identity.ts). @default the first 20 seen */
  clients?: ClientLabelOptions;
}

export interface GraphQLMetrics {
  /** Apollo plugin: one count (with the first error's code, or `OK`) and one duration per request. */
  plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext>;
  /** Records a request answered outside Apollo's pipeline (the gateway's cached responses). */
  record(operationName: string | null | undefined, code: string, seconds: number, client?: ClientIdentity): void;
}

const NO_CLIENT: ClientIdentity = { name: null, version: null };

type Labels = { operation: string; client: string };

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export function createGraphQLMetrics(options: GraphQLMetricsOptions): GraphQLMetrics {
  const { registry } = options;
  const maxOperations = options.maxOperations ?? 200;
  const requests = batchedCounter(registry, {
    name: 'trellis_graphql_requests_total',
    help: 'GraphQL requests by operation, outcome (OK, or the first error code) and client',
    labelNames: ['operation', 'code', 'client'],
  });
  const duration = registeredMetric(
    registry,
    'trellis_graphql_request_duration_seconds',
    () =>
      new Histogram({
        name: 'trellis_graphql_request_duration_seconds',
        help: 'GraphQL request duration from receipt to response, by operation and client',
        labelNames: ['operation', 'client'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  const seen = new Set<string>();
  const label = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (seen.has(name)) return name;
    if (!OPERATION_NAME.test(name)) return 'anonymous';
    if (seen.size >= maxOperations) return 'other';
    seen.add(name);
    return name;
  };
  const clientLabel = createClientLabeler(options.clients);
  // Label objects per (operation, client), made once: both sets are bounded, and a cached hit
  // records a request too (prom-client's labels() allocates a binding on every call).
  const labelSets = new Map<string, Map<string, { duration: Labels; ok: () => void }>>();
  const labelsOf = (operation: string, client: string) => {
    let byClient = labelSets.get(operation);
    if (!byClient) {
      byClient = new Map();
      labelSets.set(operation, byClient);
    }
    let labels = byClient.get(client);
    if (!labels) {
      labels = { duration: { operation, client }, ok: requests.child({ operation, code: 'OK', client }) };
      byClient.set(client, labels);
    }
    return labels;
  };
  const record = (
    operationName: string | null | undefined,
    code: string,
    seconds: number,
    identity: ClientIdentity = NO_CLIENT,
  ) => {
    const labels = labelsOf(label(operationName), clientLabel(identity));
    if (code === 'OK') labels.ok();
    else requests.counter.inc({ operation: labels.duration.operation, code, client: labels.duration.client });
    duration.observe(labels.duration, seconds);
  };
  return {
    record,
    plugin: () => ({
      async requestDidStart() {
        const started = performance.now();
        return {
          async willSendResponse({ response, operationName, request, document }) {
            // A document that failed validation has no resolved operation: name it from its text.
            const named = document?.definitions.find((d) => d.kind === 'OperationDefinition');
            const fromDocument = named && 'name' in named ? named.name?.value : undefined;
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            const code = errors?.length ? String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'OK';
            const headers = request.http?.headers;
            const client = parseClientIdentity(headers?.get(CLIENT_NAME_HEADER), headers?.get(CLIENT_VERSION_HEADER));
            record(
              operationName ?? request.operationName ?? fromDocument,
              code,
              (performance.now() - started) / 1000,
              client,
            );
          },
        };
      },
    }),
  };
}

/** The metrics plugin alone (subgraphs: every request goes through Apollo). */
export function createGraphQLMetricsPlugin<TContext extends BaseContext>(
  options: GraphQLMetricsOptions,
): ApolloServerPlugin<TContext> {
  return createGraphQLMetrics(options).plugin<TContext>();
}
