// trellis_graphql_requests_total{operation,code,client} and
// trellis_graphql_request_duration_seconds{operation,client} from a real Apollo Server.
import { ApolloServer, HeaderMap } from '@apollo/server';
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
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Catalogue",code="OK",client="unknown"\} 2$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="anonymous",code="OK",client="unknown"\} 1$/m);
    expect(text).toMatch(
      /^trellis_graphql_requests_total\{operation="Broken",code="INTERNAL_SERVER_ERROR",client="unknown"\} 1$/m,
    );
    expect(text).toMatch(
      /^trellis_graphql_requests_total\{operation="Invalid",code="GRAPHQL_VALIDATION_FAILED",client="unknown"\} 1$/m,
    );
    expect(text).toMatch(
      /^trellis_graphql_request_duration_seconds_count\{operation="Catalogue",client="unknown"\} 2$/m,
    );
    expect(text).toMatch(
      /^trellis_graphql_request_duration_seconds_bucket\{le="0.3",operation="Catalogue",client="unknown"\} 2$/m,
    );
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
    expect(text).toMatch(/operation="A",code="OK",client="unknown"\} 2$/m);
    expect(text).toMatch(/operation="B",code="OK",client="unknown"\} 1$/m);
    expect(text).toMatch(/operation="other",code="OK",client="unknown"\} 2$/m);
  });

  it('labels requests by client name, bounded: invalid is unknown, names past the cap are other', async () => {
    const registry = new Registry();
    const server = new ApolloServer({
      typeDefs,
      resolvers,
      plugins: [createGraphQLMetricsPlugin({ registry, clients: { max: 3 } })],
    });
    await server.start();
    const as = (name: string | undefined) =>
      server.executeOperation({
        query: 'query Q { hello }',
        ...(name === undefined ? {} : withHeaders({ 'apollographql-client-name': name })),
      });
    await as('web');
    await as('web');
    await as('ios');
    await as(undefined);
    await as('bad\u0001name');
    await as('x'.repeat(10_240));
    // 10,000 distinct names: three labels, then `other`.
    for (let i = 0; i < 10_000; i++) await as(`client-${i}`);
    await server.stop();
    const text = await registry.metrics();
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Q",code="OK",client="web"\} 2$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Q",code="OK",client="ios"\} 1$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Q",code="OK",client="client-0"\} 1$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Q",code="OK",client="other"\} 9999$/m);
    expect(text).toMatch(/^trellis_graphql_requests_total\{operation="Q",code="OK",client="unknown"\} 3$/m);
    const series = text.split('\n').filter((line) => line.startsWith('trellis_graphql_requests_total{'));
    expect(series).toHaveLength(5);
    expect(
      text.split('\n').filter((line) => line.startsWith('trellis_graphql_request_duration_seconds_count{')),
    ).toHaveLength(5);
  });
});

/** The http part of an executeOperation request carrying `headers`. */
function withHeaders(headers: Record<string, string>) {
  return { http: { method: 'POST', headers: new HeaderMap(Object.entries(headers)), search: '', body: {} } };
}
