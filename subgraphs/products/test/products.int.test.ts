import type { GraphQLResponse } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'));
});
afterAll(async () => {
  await service?.stop();
});

type Page = {
  products: {
    totalCount?: number;
    edges: { cursor: string; node: { id: string; name: string; price: number; category: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null; startCursor: string | null };
  };
};
const LIST = /* GraphQL */ `
  query List($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter, $orderBy: ProductOrder) {
    products(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges { cursor node { id name price category } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

describe('products subgraph', () => {
  it('serves a seeded product by id, and null for unknown or impossible ids', async () => {
    const [row] = await service.running.database.sql`select name, price_cents from products.products where id = 3`;
    const { body } = await service.query(
      '{ a: product(id: "3") { id name price } b: product(id: "99999") { id } c: product(id: "x") { id } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ a: { id: '3', name: row!.name, price: row!.price_cents / 100 }, b: null, c: null });
  });

  it('resolves a batch of entity references in one statement, unknown ids as null', async () => {
    service.statements.reset();
    const { body } = await service.query(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name } } }',
      { r: ['1', '2', '424242', '5'].map((id) => ({ __typename: 'Product', id })) },
    );
    expect(body.errors).toBeUndefined();
    const entities = (body.data as { _entities: ({ id: string } | null)[] })._entities;
    expect(entities.map((e) => e?.id ?? null)).toEqual(['1', '2', null, '5']);
    expect(service.statements.count).toBe(1);
  });

  it('pages through every product by price without skipping or repeating', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let prices: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { body }: GraphQLResponse<Page> = await service.query<Page>(LIST, {
        first: 30,
        after,
        orderBy: { field: 'PRICE', direction: 'ASC' },
      });
      expect(body.errors).toBeUndefined();
      const page: Page['products'] = body.data!.products;
      seen.push(...page.edges.map((e) => e.node.id));
      prices = prices.concat(page.edges.map((e) => e.node.price));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(100);
    expect(new Set(seen).size).toBe(100);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('never skips or repeats a row while rows are inserted between page requests (ties broken by id)', async () => {
    const { sql } = service.running.database;
    const original = (await sql`select id from products.products`).map((r) => String(r.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 40; i++) {
      const response: GraphQLResponse<Page> = await service.query<Page>(LIST, {
        first: 7,
        after,
        orderBy: { field: 'PRICE', direction: 'ASC' },
      });
      const page: Page['products'] = response.body.data!.products;
      seen.push(...page.edges.map((e) => e.node.id));
      const last = page.edges.at(-1);
      if (!page.pageInfo.hasNextPage || !last) break;
      // Ties with the cursor row (same price, higher id), rows before it and rows after it.
      const cents = Math.round(last.node.price * 100);
      await sql`insert into products.products (name, description, category, price_cents, weight_grams)
        values ('tie', '', 'toys', ${cents}, 100), ('early', '', 'toys', 1, 100), ('late', '', 'toys', 4000000, 100)`;
      after = page.pageInfo.endCursor;
    }
    const originalsSeen = seen.filter((id) => original.includes(id));
    expect(originalsSeen.sort()).toEqual([...original].sort());
    expect(new Set(seen).size).toBe(seen.length);
    await sql`delete from products.products where name in ('tie', 'early', 'late')`;
  });

  it('filters by category and price range, with totalCount of the filtered set', async () => {
    const [{ n }] = (await service.running.database.sql`
      select count(*)::int as n from products.products where category = 'kitchen' and price_cents between 5000 and 40000`) as unknown as [
      { n: number },
    ];
    const { body } = await service.query<Page>(LIST, {
      first: 100,
      filter: { category: 'kitchen', priceMin: 50, priceMax: 400 },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data!.products.totalCount).toBe(n);
    expect(body.data!.products.edges).toHaveLength(n);
    for (const { node } of body.data!.products.edges) {
      expect(node.category).toBe('kitchen');
      expect(node.price).toBeGreaterThanOrEqual(50);
      expect(node.price).toBeLessThanOrEqual(400);
    }
  });

  it('searches names case-insensitively', async () => {
    const { body } = await service.query<Page>(LIST, { first: 100, filter: { search: 'oAk' } });
    expect(body.errors).toBeUndefined();
    expect(body.data!.products.edges.length).toBeGreaterThan(0);
    for (const { node } of body.data!.products.edges) expect(node.name.toLowerCase()).toContain('oak');
  });

  it('rejects a forged cursor, oversized pages and conflicting arguments with BAD_USER_INPUT', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ after: 'Zm9yZ2Vk.c2lnbmF0dXJl' }, 'after'],
      [{ first: 101 }, 'first'],
      [{ first: -1 }, 'first'],
      [{ first: 5, last: 5 }, 'last'],
      [{ filter: { search: 'ab' } }, 'filter'],
      [{ filter: { priceMin: 10, priceMax: 5 } }, 'filter'],
    ];
    for (const [variables, argument] of cases) {
      const { status, body } = await service.query(LIST, variables);
      expect(status).toBe(200);
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0]?.extensions?.argumentPath).toEqual([
        argument,
        ...(argument === 'filter' ? [expect.any(String)] : []),
      ]);
    }
  });

  it('updates a product and reports invalid input as userErrors', async () => {
    const mutation =
      'mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { id name price } userErrors { code path message } } }';
    const ok = await service.query(
      mutation,
      { input: { id: '4', name: 'Renamed', price: 12.5 } },
      { as: { userId: '1', scopes: ['admin'] } },
    );
    expect(ok.body.data).toEqual({
      updateProduct: { product: { id: '4', name: 'Renamed', price: 12.5 }, userErrors: [] },
    });
    const bad = await service.query(
      mutation,
      { input: { id: '4', price: -1 } },
      { as: { userId: '1', scopes: ['admin'] } },
    );
    expect(bad.body.data).toEqual({
      updateProduct: {
        product: null,
        userErrors: [{ code: 'INVALID', path: ['input', 'price'], message: expect.any(String) }],
      },
    });
    const missing = await service.query(
      mutation,
      { input: { id: '77777', name: 'x' } },
      { as: { userId: '1', scopes: ['admin'] } },
    );
    expect((missing.body.data as any).updateProduct.userErrors[0].code).toBe('NOT_FOUND');
  });

  it('publishes its SDL through _service', async () => {
    const { body } = await service.query<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(body.data!._service.sdl).toMatch(/type Product\s+@key\(fields: "id"\)/);
  });
});
