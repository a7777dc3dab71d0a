// SQL statements per subgraph per request do not grow with the page: 1, 10 and 100
// products with their reviews and the reviews' authors cost the same statements.
import { seedPlan } from '@trellis/db/seed';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../src/harness.ts';

let graph: TestGraph;
beforeAll(async () => {
  // 200 products, so a page of 100 is a real page.
  graph = await startGraph(inject('databaseUrl'), { plan: seedPlan(0.1) });
});
afterAll(async () => {
  await graph?.stop();
});

const QUERY = `query($first: Int!) {
  products(first: $first, orderBy: { field: PRICE, direction: ASC }) {
    edges { node {
      id name price inStock quantity shippingEstimate averageRating reviewCount
      reviews(first: 3) { edges { node { rating author { id name } } } }
    } }
  }
}`;

function countsPerSubgraph(): Record<string, number> {
  return Object.fromEntries(Object.entries(graph.subgraphs).map(([name, s]) => [name, s.statements.count]));
}

describe('statements per request', () => {
  it('stay constant per subgraph for 1, 10 and 100 products with reviews and authors', async () => {
    const results: Record<string, number>[] = [];
    for (const first of [1, 10, 100]) {
      for (const s of Object.values(graph.subgraphs)) s.statements.reset();
      const { body } = await graphql(graph.url, QUERY, { first });
      expect(body.errors).toBeUndefined();
      const edges = (body.data as any).products.edges;
      expect(edges).toHaveLength(first);
      expect(edges.some((e: any) => e.node.reviews.edges.length > 0)).toBe(true);
      results.push(countsPerSubgraph());
    }
    // products: the page; inventory: stock; reviews: aggregates + the nested pages;
    // accounts: the authors. Every other subgraph (orders, any added later) is not touched.
    const untouched = Object.fromEntries(Object.keys(graph.subgraphs).map((name) => [name, 0]));
    const expected = { ...untouched, accounts: 1, products: 1, inventory: 1, reviews: 2 };
    expect(results).toEqual([expected, expected, expected]);
  });
});
