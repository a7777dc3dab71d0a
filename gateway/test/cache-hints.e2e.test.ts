// Cache hints: every subgraph sends Cache-Control from its @cacheControl hints; the gateway
// merges the hints of all fetches of a request (most restrictive wins) into its own header.
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../../tools/src/harness.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
});
afterAll(async () => {
  await graph?.stop();
});

async function cacheControl(query: string, headers: Record<string, string> = {}) {
  const { body, headers: response } = await graphql(graph.url, query, {}, headers);
  expect(body.errors).toBeUndefined();
  return response.get('cache-control');
}

describe('cache hints', () => {
  it('a catalogue read is public for a minute', async () => {
    expect(
      await cacheControl('{ products(first: 3) { edges { node { id name price } } pageInfo { hasNextPage } } }'),
    ).toBe('max-age=60, public');
  });

  it('the most restrictive hint of every subgraph fetched wins', async () => {
    // products 60 s, reviews 60 s, inventory stock 10 s.
    expect(await cacheControl('{ product(id: "1") { name reviewCount inStock } }')).toBe('max-age=10, public');
    expect(await cacheControl('{ product(id: "1") { name reviewCount shippingEstimate } }')).toBe('max-age=30, public');
  });

  it('user data is private', async () => {
    const auth = { authorization: `Bearer ${await tokenFor(3)}` };
    expect(await cacheControl('{ me { id name } }', auth)).toBe('max-age=30, private');
    expect(await cacheControl('{ me { id orders(first: 1) { totalCount } } }', auth)).toBe('max-age=10, private');
    expect(await cacheControl('{ user(id: "3") { name email } }', auth)).toBe('max-age=60, private');
  });

  it('mutations and errors are never cacheable', async () => {
    const auth = { authorization: `Bearer ${await tokenFor(3)}` };
    const mutation = await graphql(
      graph.url,
      'mutation { addReview(input: { productId: "1", rating: 4, body: "ok" }) { userErrors { code } } }',
      {},
      auth,
    );
    expect(mutation.headers.get('cache-control')).toBe('no-store');
    const failed = await graphql(graph.url, '{ products(first: 101) { totalCount } }');
    expect(failed.headers.get('cache-control')).toBe('no-store');
  });
});
