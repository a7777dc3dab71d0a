// placeOrder through the gateway: catalogue prices (never the client's), one transaction
// for the order, its lines and its confirmation job, idempotency (replay, concurrent
// duplicates, reused key), bad input as userErrors, and the admin queue stats.
import { randomUUID } from 'node:crypto';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../src/harness.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  // The orders subgraph reads prices from the products subgraph (read on first use).
  vi.stubEnv('CATALOGUE_URL', graph.subgraphs.products!.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await graph?.stop();
});

const PLACE = /* GraphQL */ `
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { id total status buyer { id } lines { quantity unitPrice product { id } } }
      userErrors { message path code }
    }
  }
`;

async function place(userId: number, input: unknown) {
  const token = await tokenFor(userId);
  const { body } = await graphql(graph.url, PLACE, { input }, { authorization: `Bearer ${token}` });
  expect(body.errors).toBeUndefined();
  return (body.data as any).placeOrder as {
    order: {
      id: string;
      total: number;
      lines: { quantity: number; unitPrice: number; product: { id: string } }[];
    } | null;
    userErrors: { message: string; path: string[]; code: string }[];
  };
}

const ordersSql = () => graph.subgraphs.orders!.running.database.sql;
const productsSql = () => graph.subgraphs.products!.running.database.sql;
const jobCount = async () =>
  (await ordersSql()`select count(*)::int as n from orders_jobs.job where name = 'order-confirmation'`)[0]!.n as number;

describe('placeOrder', () => {
  it('prices from the catalogue and writes the order, its lines and one confirmation job', async () => {
    const [a, b] = await productsSql()`select id, price_cents from products.products order by id limit 2`;
    const before = await jobCount();
    const result = await place(3, {
      idempotencyKey: randomUUID(),
      lines: [
        { productId: String(a!.id), quantity: 2 },
        { productId: String(b!.id), quantity: 1 },
      ],
    });
    expect(result.userErrors).toEqual([]);
    const order = result.order!;
    expect(order.lines.map((l) => [l.product.id, l.quantity, Math.round(l.unitPrice * 100)])).toEqual([
      [String(a!.id), 2, a!.price_cents],
      [String(b!.id), 1, b!.price_cents],
    ]);
    expect(Math.round(order.total * 100)).toBe(2 * a!.price_cents + b!.price_cents);
    expect(await jobCount()).toBe(before + 1);
    const [job] =
      await ordersSql()`select data from orders_jobs.job where name = 'order-confirmation' and data->>'orderId' = ${order.id}`;
    expect(job!.data._msg).toBe(`order-placed:${order.id}`);
  });

  it('needs a signed-in user', async () => {
    const { body } = await graphql(graph.url, PLACE, { input: { idempotencyKey: randomUUID(), lines: [] } });
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a repeated key with the same lines returns the same order and enqueues nothing', async () => {
    const input = { idempotencyKey: randomUUID(), lines: [{ productId: '5', quantity: 1 }] };
    const first = await place(4, input);
    const jobs = await jobCount();
    const second = await place(4, input);
    expect(second.order!.id).toBe(first.order!.id);
    expect(await jobCount()).toBe(jobs);
    // Keys are per buyer: another user may use the same key.
    const other = await place(5, input);
    expect(other.order!.id).not.toBe(first.order!.id);
  });

  it('concurrent duplicates produce exactly one order and one job', async () => {
    const input = { idempotencyKey: randomUUID(), lines: [{ productId: '7', quantity: 3 }] };
    const jobs = await jobCount();
    const results = await Promise.all(Array.from({ length: 8 }, () => place(6, input)));
    const ids = new Set(results.map((r) => r.order?.id));
    expect(results.every((r) => r.userErrors.length === 0)).toBe(true);
    expect(ids.size).toBe(1);
    const rows =
      await ordersSql()`select count(*)::int as n from orders.orders where buyer_id = 6 and idempotency_key = ${input.idempotencyKey}`;
    expect(rows[0]!.n).toBe(1);
    expect(await jobCount()).toBe(jobs + 1);
  });

  it('a reused key with different lines is a userError, not a silent success', async () => {
    const key = randomUUID();
    await place(7, { idempotencyKey: key, lines: [{ productId: '8', quantity: 1 }] });
    const jobs = await jobCount();
    const reused = await place(7, { idempotencyKey: key, lines: [{ productId: '8', quantity: 2 }] });
    expect(reused.order).toBeNull();
    expect(reused.userErrors).toEqual([
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', path: ['input', 'idempotencyKey'] }),
    ]);
    expect(await jobCount()).toBe(jobs);
  });

  it('bad input is userErrors, and nothing is written', async () => {
    const [{ n: ordersBefore }] = (await ordersSql()`select count(*)::int as n from orders.orders`) as unknown as [
      { n: number },
    ];
    const jobs = await jobCount();
    const cases: [unknown[], string, string[]][] = [
      [[{ productId: '999999', quantity: 1 }], 'NOT_FOUND', ['input', 'lines', '0', 'productId']],
      [[{ productId: 'abc', quantity: 1 }], 'NOT_FOUND', ['input', 'lines', '0', 'productId']],
      [[{ productId: '1', quantity: 0 }], 'INVALID_QUANTITY', ['input', 'lines', '0', 'quantity']],
      [[{ productId: '1', quantity: -2 }], 'INVALID_QUANTITY', ['input', 'lines', '0', 'quantity']],
      [[{ productId: '1', quantity: 1001 }], 'INVALID_QUANTITY', ['input', 'lines', '0', 'quantity']],
      [
        [
          { productId: '1', quantity: 1 },
          { productId: '1', quantity: 2 },
        ],
        'DUPLICATE_PRODUCT',
        ['input', 'lines', '1', 'productId'],
      ],
      [[], 'NO_LINES', ['input', 'lines']],
      [
        Array.from({ length: 51 }, (_, i) => ({ productId: String(i + 1), quantity: 1 })),
        'TOO_MANY_LINES',
        ['input', 'lines'],
      ],
    ];
    for (const [lines, code, path] of cases) {
      const result = await place(8, { idempotencyKey: randomUUID(), lines });
      expect(result.order, code).toBeNull();
      expect(result.userErrors, code).toContainEqual(expect.objectContaining({ code, path }));
    }
    const badKey = await place(8, { idempotencyKey: 'short', lines: [{ productId: '1', quantity: 1 }] });
    expect(badKey.userErrors.map((e) => e.code)).toEqual(['INVALID_IDEMPOTENCY_KEY']);
    const [{ n: ordersAfter }] = (await ordersSql()`select count(*)::int as n from orders.orders`) as unknown as [
      { n: number },
    ];
    expect(ordersAfter).toBe(ordersBefore);
    expect(await jobCount()).toBe(jobs);
  });

  it('50 lines is the cap and is accepted', async () => {
    const result = await place(9, {
      idempotencyKey: randomUUID(),
      lines: Array.from({ length: 50 }, (_, i) => ({ productId: String(i + 1), quantity: 1 })),
    });
    expect(result.userErrors).toEqual([]);
    expect(result.order!.lines).toHaveLength(50);
  });
});

describe('orderJobQueues', () => {
  const QUEUES = '{ orderJobQueues { queue depth active oldestAgeSeconds failed deadLetters } }';
  it('admins read queue stats; others are refused', async () => {
    const admin = await tokenFor(1, ['admin']);
    const { body } = await graphql(graph.url, QUEUES, {}, { authorization: `Bearer ${admin}` });
    expect(body.errors).toBeUndefined();
    const [stats] = (body.data as any).orderJobQueues;
    expect(stats.queue).toBe('order-confirmation');
    // No worker runs in this test: every confirmation enqueued above is waiting.
    expect(stats.depth).toBe(await jobCount());
    expect(stats.oldestAgeSeconds).toBeGreaterThan(0);

    const user = await tokenFor(2);
    const refused = await graphql(graph.url, QUEUES, {}, { authorization: `Bearer ${user}` });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
