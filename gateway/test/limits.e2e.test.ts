// Operation limits through the real gateway: every limit rejects with QUERY_TOO_COMPLEX
// (HTTP 400) and its figures, before any subgraph is asked; development reports the cost.
import { composeSupergraph } from '@trellis/composition';
import { graphql } from '@trellis/testing';
import { buildSchema, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';
import { costEstimator, readCostHints } from '../src/cost.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'), {
    nodeEnv: 'development',
    limits: { maxCost: 2000, maxDepth: 8, maxAliases: 5, maxDirectives: 4, maxTokens: 400, maxDocumentBytes: 3000 },
  });
});
afterAll(async () => {
  await graph?.stop();
});

function resetStatements() {
  for (const s of Object.values(graph.subgraphs)) s.statements.reset();
}
/** SQL statements run by every subgraph plus HTTP fetches the gateway made to them. */
async function subgraphWork() {
  const sql = Object.values(graph.subgraphs).reduce((sum, s) => sum + s.statements.count, 0);
  const metric = await graph.gateway.registry.getSingleMetric('trellis_gateway_subgraph_fetches_total')?.get();
  const fetches = (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  return sql + fetches;
}

async function expectRejected(query: string, code: string, variables: Record<string, unknown> = {}) {
  resetStatements();
  const before = await subgraphWork();
  const { status, body } = await graphql(graph.url, query, variables);
  expect(status).toBe(400);
  expect(body.errors?.[0]?.extensions?.code).toBe(code);
  expect(body.data).toBeUndefined();
  expect(await subgraphWork()).toBe(before);
  return body.errors![0]!;
}

describe('operation limits', () => {
  it('reports the estimated cost of every response in development', async () => {
    const { body } = await graphql(
      graph.url,
      '{ products(first: 10) { edges { node { name reviews(first: 5) { edges { node { rating } } } } } } }',
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    // products: 1 + 10 × (edges 1 + node 1 + reviews (1 + 5 × (edges 1 + node 1)))
    expect((body as any).extensions.cost).toEqual({ estimated: 1 + 10 * (1 + 1 + (1 + 5 * 2)), max: 2000 });
    // The work counter used below sees real fetches (so "unchanged" means "none").
    expect(await subgraphWork()).toBeGreaterThan(0);
  });

  it('rejects a costly operation with its figures, counting page sizes from variables', async () => {
    const error = await expectRejected(
      'query($n: Int) { products(first: $n) { edges { node { reviews(first: 100) { edges { node { author { name } } } } } } } }',
      'QUERY_TOO_COMPLEX',
      { n: 50 },
    );
    expect(error.extensions?.cost).toEqual({ estimated: expect.any(Number), max: 2000 });
    expect((error.extensions as any).cost.estimated).toBeGreaterThan(2000);
  });

  it('cannot be dodged with aliases: each aliased connection counts', async () => {
    const query = `{ a: products(first: 100) { edges { node { reviews(first: 5) { edges { node { rating } } } } } }
      b: products(first: 100) { edges { node { reviews(first: 5) { edges { node { rating } } } } } } }`;
    await expectRejected(query, 'QUERY_TOO_COMPLEX');
  });

  it('rejects too deep, too many aliases, too many directives, too many tokens and too large documents', async () => {
    const deep = await expectRejected(
      '{ product(id: "1") { reviews { edges { node { product { reviews { edges { node { author { reviews { edges { node { id } } } } } } } } } } } } }',
      'QUERY_TOO_COMPLEX',
    );
    expect(deep.extensions).toMatchObject({ limit: 'depth', max: 8 });
    const aliases = await expectRejected(
      `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: product(id: "1") { id }`).join(' ')} }`,
      'QUERY_TOO_COMPLEX',
    );
    expect(aliases.extensions).toMatchObject({ limit: 'aliases', actual: 6, max: 5 });
    const directives = await expectRejected(
      `{ product(id: "1") { ${Array.from({ length: 5 }, () => 'id @include(if: true)').join(' ')} } }`,
      'QUERY_TOO_COMPLEX',
    );
    expect(directives.extensions).toMatchObject({ limit: 'directives', max: 4 });
    const tokens = await expectRejected(`{ product(id: "1") { ${'id '.repeat(450)} } }`, 'GRAPHQL_PARSE_FAILED');
    expect(tokens.message).toMatch(/more tha[nt] 400 tokens/);
    const bytes = await expectRejected(`{ product(id: "1") { id } } # ${'x'.repeat(3100)}`, 'QUERY_TOO_COMPLEX');
    expect(bytes.extensions).toMatchObject({ limit: 'documentBytes', max: 3000 });
  });
});

describe('cost hints from the supergraph', () => {
  it('honours @cost weights and @listSize assumed sizes and slicing arguments', () => {
    const sdl = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])
      type Query {
        expensive: Item @cost(weight: 50)
        items(limit: Int): [Item!]! @listSize(slicingArguments: ["limit"])
        many: [Item!]! @listSize(assumedSize: 3)
      }
      type Item @key(fields: "id") { id: ID! child: Item }`;
    const supergraph = composeSupergraph([{ name: 'a', url: 'http://a', sdl }]);
    const hints = readCostHints(supergraph);
    const schema = buildSchema(
      `type Query { expensive: Item items(limit: Int): [Item!]! many: [Item!]! } type Item { id: ID! child: Item }`,
    );
    const cost = (query: string) =>
      getComplexity({ schema, query: parse(query), estimators: [costEstimator(() => hints)] });
    expect(cost('{ expensive { id } }')).toBe(50);
    expect(cost('{ items(limit: 7) { child { id } } }')).toBe(1 + 7 * 1);
    expect(cost('{ many { child { id } } }')).toBe(1 + 3 * 1);
  });
});
