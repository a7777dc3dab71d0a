// trellis_graphql_requests_total{operation,code} and
// trellis_graphql_request_duration_seconds{operation} from a real Apollo Server.
import { ApolloServer } from '@apollo/server';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGraphQLMetricsPlugin } from './graphql-metrics.ts';

const typeDefs = 'type Query { hello: String boom: String }';
const resolvers = {
  Query: {
    hello: () => 'world',
    boom: () => {
      throw new Error('kaboom');
    },
  },
};

describe('createGraphQLMetricsPlugin', () => {
  it('counts requests by operation and first error code, with a duration per operation', async () => {
    const registry = new Registry();
    const server = new ApolloServer({ typeDefs, resolvers, plugins: [createGraphQLMetricsPlugin({ registry })] });
    await server.start();
    await server.executeOperation({ query: 'query Catalogue { hello }' });
    await server.executeOperation({ query: 'query Catalogue { hello }' });
    await server.executeOperation({ query: '{ hello }' });
    await server.executeOperation({ query: 'query Broken { boom }' });
    await server.executeOperation({ query: 'query Invalid { nope }' });
    await server.stop();
    const text = await registry.metrics();
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Catalogue",code="OK"\} 2$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="anonymous",code="OK"\} 1$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Broken",code="INTERNAL_SERVER_ERROR"\} 1$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Invalid",code="GRAPHQL_VALIDATION_FAILED"\} 1$/m);
    expect(text).toMatch(/^trellis_graphql_request_duration_seconds_count\{operation="Catalogue"\} 2$/m);
    expect(text).toMatch(/^trellis_graphql_request_duration_seconds_bucket\{le="0.3",operation="Catalogue"\} 2$/m);
  });

  it('bounds operation-name cardinality', async () => {
    const registry = new Registry();
    const server = new ApolloServer({
      typeDefs,
      resolvers,
      plugins: [createGraphQLMetricsPlugin({ registry, maxOperations: 2 })],
    });
    await server.start();
    for (const name of ['A', 'B', 'C', 'D', 'A']) await server.executeOperation({ query: `query ${name} { hello }` });
    await server.stop();
    const text = await registry.metrics();
    expect(text).toMatch(/operation="A",code="OK"\} 2$/m);
    expect(text).toMatch(/operation="B",code="OK"\} 1$/m);
    expect(text).toMatch(/operation="other",code="OK"\} 2$/m);
  });
});
