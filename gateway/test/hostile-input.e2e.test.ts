// Hostile and careless input through the real graph (issue 16): variables nested thousands
// of levels deep, NUL characters, lone surrogates and impossible dates in every String, ID
// and DateTime input of every subgraph's SDL. Each gets a typed 400 BAD_USER_INPUT naming
// the argument, before anything recurses over it or a subgraph passes it to Postgres.
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../../tools/src/harness.ts';
import { textInputCases } from '../../tools/src/text-inputs.ts';

let graph: TestGraph;
let admin: Record<string, string>;
beforeAll(async () => {
  // The response cache on: its key serialised the variables (the 500 of the report).
  graph = await startGraph(inject('databaseUrl'), {
    nodeEnv: 'production',
    responseCache: { enabled: true, timeoutMs: 50 },
  });
  admin = { authorization: `Bearer ${await tokenFor(1, ['admin'])}` };
});
afterAll(async () => {
  await graph?.stop();
});

const nested = (depth: number, leaf = '1') => {
  let text = leaf;
  for (let i = 0; i < depth; i++) text = `{"a":${text}}`;
  return text;
};
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

async function expectBadInput(response: Response, message: RegExp) {
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  expect(response.status).toBe(400);
  expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(body.errors?.[0]?.message).toMatch(message);
}

describe('variables and extensions are bounded at the edge', () => {
  it('5,000 levels of variables (the report): 400 BAD_USER_INPUT, not a 500', async () => {
    const body = `{"query":"{ __typename }","variables":{"x":${nested(5000)}}}`;
    await expectBadInput(await post(body), /variables nested deeper than 32/);
  });

  it('deep extensions, deep arrays, and too many values: 400', async () => {
    await expectBadInput(
      await post(`{"query":"{ __typename }","extensions":{"x":${nested(5000)}}}`),
      /extensions nested deeper/,
    );
    await expectBadInput(
      await post(`{"query":"{ __typename }","variables":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`),
      /deeper/,
    );
    await expectBadInput(
      await post(
        JSON.stringify({ query: '{ __typename }', variables: { x: Array.from({ length: 20_000 }, () => 0) } }),
      ),
      /more than 10000 values/,
    );
  });

  it('applies to GET query strings too', async () => {
    const variables = `{"x":${'['.repeat(40)}${']'.repeat(40)}}`;
    const response = await fetch(
      `${graph.url}?query=${encodeURIComponent('{ __typename }')}&variables=${encodeURIComponent(variables)}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    await expectBadInput(response, /deeper/);
  });

  it('leaves variables within the bounds alone (cached both ways)', async () => {
    const body = JSON.stringify({
      query: 'query($x: ID!) { product(id: $x) { id } }',
      variables: { x: '1', unused: JSON.parse(nested(30)) },
    });
    for (const cache of ['MISS', 'HIT']) {
      const response = await post(body);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe(cache);
      expect(await response.json()).toEqual({ data: { product: { id: '1' } } });
    }
  });
});

describe('text and dates are validated at the API, not by the database', () => {
  const cases = textInputCases();

  it('walks every text input of every subgraph', () => {
    const fields = new Set(cases.map((c) => c.label.split('(')[0]));
    // Root and nested fields of all five subgraphs, arguments and input-object fields.
    for (const field of [
      'Query.products',
      'Query.product',
      'Query.user',
      'Query.order',
      'Query.reviews',
      'Product.reviews',
      'User.orders',
      'Mutation.addReview',
      'Mutation.updateProduct',
      'Mutation.adjustStock',
      'Mutation.placeOrder',
    ])
      expect(fields).toContain(field);
    expect(cases.some((c) => c.argumentPath.join('.') === 'placeOrder.input.lines.0.productId')).toBe(true);
    expect(
      cases.some((c) => c.scalar === 'DateTime' && c.argumentPath.join('.').endsWith('orders.filter.createdAfter')),
    ).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  it('refuses every bad value in every position with BAD_USER_INPUT and the argument path', async () => {
    const failures: string[] = [];
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const { status, body } = await graphql(graph.url, c.query, c.variables, admin);
          const error = body.errors?.[0];
          if (
            status !== 400 ||
            error?.extensions?.code !== 'BAD_USER_INPUT' ||
            JSON.stringify(error.extensions.argumentPath) !== JSON.stringify(c.argumentPath)
          )
            failures.push(`${c.label}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  it('refuses bad literals too (the report: products(filter: { search: "ab\\u0000c" }))', async () => {
    const search = await graphql(graph.url, '{ products(filter: { search: "ab\\u0000c" }) { edges { cursor } } }');
    expect(search.status).toBe(400);
    expect(search.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentPath: ['products', 'filter', 'search'],
    });
    const date = await graphql(
      graph.url,
      '{ me { orders(filter: { createdAfter: "0000-01-01T00:00:00Z" }) { edges { cursor } } } }',
      undefined,
      admin,
    );
    expect(date.status).toBe(400);
    expect(date.body.errors?.[0]?.message).toMatch(/0001 to 9999/);
  });

  it('accepts good text and dates (surrogate pairs, leap days)', async () => {
    const search = await graphql(
      graph.url,
      'query($s: String) { products(first: 1, filter: { search: $s }) { edges { cursor } } }',
      { s: 'caf\u00e9 😀' },
    );
    expect(search.status).toBe(200);
    expect(search.body.errors).toBeUndefined();
    const orders = await graphql(
      graph.url,
      'query($d: DateTime) { me { orders(first: 1, filter: { createdAfter: $d }) { edges { cursor } } } }',
      { d: '2024-02-29T00:00:00Z' },
      admin,
    );
    expect(orders.status).toBe(200);
    expect(orders.body.errors).toBeUndefined();
  });

  it('every subgraph applies the same rule itself (behind another gateway, or a direct call)', async () => {
    const as = { userId: '1', scopes: ['admin'] };
    const reviews = await graph.subgraphs.reviews!.query(
      'mutation($b: String!) { addReview(input: { productId: "1", rating: 5, body: $b }) { review { id } } }',
      { b: 'nice\u0000' },
      { as },
    );
    expect(reviews.status).toBe(400);
    expect(reviews.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentPath: ['addReview', 'input', 'body'],
    });
    const orders = await graph.subgraphs.orders!.query(
      `query($d: DateTime) { _entities(representations: [{ __typename: "User", id: "1" }]) {
        ... on User { orders(filter: { createdAfter: $d }) { edges { cursor } } } } }`,
      { d: '2026-02-30T00:00:00Z' },
      { as },
    );
    expect(orders.status).toBe(400);
    expect(orders.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(orders.body.errors?.[0]?.message).toMatch(/no such date/);
  });
});
