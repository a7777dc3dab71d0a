import { graphql } from '@trellis/testing';
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

describe('orders subgraph', () => {
  it('serves an order with lines whose sum is its total', async () => {
    const { body } = await graphql(
      service.url,
      '{ order(id: "12") { id total status buyer { id } lines { quantity unitPrice product { id } } } missing: order(id: "99999") { id } }',
    );
    expect(body.errors).toBeUndefined();
    const order = (body.data as any).order;
    const [row] = await service.running.database
      .sql`select buyer_id, total_cents, status from orders.orders where id = 12`;
    expect(order.total).toBe(row!.total_cents / 100);
    expect(order.status).toBe(row!.status);
    expect(order.buyer.id).toBe(String(row!.buyer_id));
    expect(order.lines.length).toBeGreaterThanOrEqual(1);
    expect(order.lines.reduce((s: number, l: any) => s + l.quantity * Math.round(l.unitPrice * 100), 0)).toBe(
      row!.total_cents,
    );
    expect((body.data as any).missing).toBeNull();
  });

  it('pages User.orders per buyer, filtered by status, in constant statements', async () => {
    const query =
      'query($r: [_Any!]!, $filter: OrderFilter) { _entities(representations: $r) { ... on User { id orders(first: 3, filter: $filter, orderBy: { field: TOTAL, direction: DESC }) { totalCount edges { node { id status total lines { quantity } } } } } } }';
    service.statements.reset();
    const users = [1, 2, 3, 4, 5].map((id) => ({ __typename: 'User', id: String(id) }));
    const { body } = await graphql(service.url, query, { r: users, filter: { status: 'DELIVERED' } });
    expect(body.errors).toBeUndefined();
    // page, lines, count
    expect(service.statements.count).toBe(3);
    for (const user of (body.data as any)._entities) {
      const rows = await service.running.database.sql`
        select id from orders.orders where buyer_id = ${Number(user.id)} and status = 'DELIVERED' order by total_cents desc, id desc`;
      expect(user.orders.totalCount).toBe(rows.length);
      expect(user.orders.edges.map((e: any) => e.node.id)).toEqual(rows.slice(0, 3).map((r) => String(r.id)));
      for (const edge of user.orders.edges) expect(edge.node.status).toBe('DELIVERED');
    }
  });
});
