import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { shippingEstimate } from '../src/resolvers/product.ts';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'));
});
afterAll(async () => {
  await service?.stop();
});

const ADMIN = { userId: '1', scopes: ['admin'] };
const ENTITIES =
  'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id quantity inStock shippingEstimate } } }';
const ADJUST =
  'mutation($input: AdjustStockInput!) { adjustStock(input: $input) { product { id quantity } userErrors { code path } } }';

describe('inventory subgraph', () => {
  it('computes shippingEstimate from the @requires fields and loads stock in one statement', async () => {
    const stock = await service.running.database
      .sql`select product_id, quantity from inventory.stock where product_id in (1, 2, 3) order by product_id`;
    service.statements.reset();
    const { body } = await service.query(ENTITIES, {
      r: [
        { __typename: 'Product', id: '1', price: 150, weight: 2 },
        { __typename: 'Product', id: '2', price: 20, weight: 2.2 },
        { __typename: 'Product', id: '3', price: 99.99, weight: 0.1 },
      ],
    });
    expect(body.errors).toBeUndefined();
    expect((body.data as any)._entities).toEqual(
      stock.map((row, i) => ({
        id: String(row.product_id),
        quantity: row.quantity,
        inStock: row.quantity > 0,
        shippingEstimate: [0, 4.99 + 3 * 2.5, 4.99 + 2.5][i],
      })),
    );
    expect(service.statements.count).toBe(1);
    expect(shippingEstimate(100, 50)).toBe(0);
  });

  it('adjusts stock atomically under 200 concurrent calls, never below zero', async () => {
    await service.running.database.sql`update inventory.stock set quantity = 0 where product_id = 9`;
    const calls = Array.from({ length: 200 }, (_, i) =>
      service.query(ADJUST, { input: { productId: '9', delta: i % 2 === 0 ? 3 : -1 } }, { as: ADMIN }),
    );
    const results = await Promise.all(calls);
    const failed = results.filter((r) => (r.body.data as any)?.adjustStock.userErrors.length > 0);
    for (const r of results) expect(r.body.errors).toBeUndefined();
    for (const r of failed) expect((r.body.data as any).adjustStock.userErrors[0].code).toBe('INSUFFICIENT_STOCK');
    const [row] = await service.running.database.sql`select quantity from inventory.stock where product_id = 9`;
    // 100 increments of 3; every decrement that did not fail removed one unit.
    const decrementsApplied = 100 - failed.length;
    expect(row!.quantity).toBe(300 - decrementsApplied);
    expect(row!.quantity).toBeGreaterThanOrEqual(0);
  });

  it('requires the admin scope (defence in depth behind @requiresScopes)', async () => {
    const anonymous = await service.query(ADJUST, { input: { productId: '1', delta: 1 } });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const user = await service.query(
      ADJUST,
      { input: { productId: '1', delta: 1 } },
      { as: { userId: '2', scopes: [] } },
    );
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses to take stock below zero', async () => {
    await service.running.database.sql`update inventory.stock set quantity = 2 where product_id = 10`;
    const { body } = await service.query(ADJUST, { input: { productId: '10', delta: -3 } }, { as: ADMIN });
    expect((body.data as any).adjustStock).toEqual({
      product: null,
      userErrors: [{ code: 'INSUFFICIENT_STOCK', path: ['input', 'delta'] }],
    });
    const ok = await service.query(ADJUST, { input: { productId: '10', delta: -2 } }, { as: ADMIN });
    expect((ok.body.data as any).adjustStock).toEqual({ product: { id: '10', quantity: 0 }, userErrors: [] });
  });
});
