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

const as = (userId: number | string) => ({ as: { userId: String(userId), scopes: [] } });
const ORDERS = /* GraphQL */ `
  query($r: [_Any!]!, $filter: OrderFilter) {
    _entities(representations: $r) { ... on User { id orders(first: 3, filter: $filter, orderBy: { field: TOTAL, direction: DESC }) {
      totalCount edges { node { id status total lines { quantity } } } } } }
  }
`;

describe('orders subgraph', () => {
  it('serves an order to its buyer, with lines whose sum is its total', async () => {
    const [row] = await service.running.database
      .sql`select buyer_id, total_cents, status from orders.orders where id = 12`;
    const { body } = await service.query(
      '{ order(id: "12") { id total status buyer { id } lines { quantity unitPrice product { id } } } missing: order(id: "99999") { id } }',
      {},
      as(row!.buyer_id),
    );
    expect(body.errors).toBeUndefined();
    const order = (body.data as any).order;
    expect(order.total).toBe(row!.total_cents / 100);
    expect(order.status).toBe(row!.status);
    expect(order.buyer.id).toBe(String(row!.buyer_id));
    expect(order.lines.length).toBeGreaterThanOrEqual(1);
    expect(order.lines.reduce((s: number, l: any) => s + l.quantity * Math.round(l.unitPrice * 100), 0)).toBe(
      row!.total_cents,
    );
    expect((body.data as any).missing).toBeNull();
  });

  it('hides an order from anyone but its buyer', async () => {
    const [row] = await service.running.database.sql`select buyer_id from orders.orders where id = 12`;
    const other = await service.query('{ order(id: "12") { id } }', {}, as(Number(row!.buyer_id) + 1));
    expect(other.body).toEqual({ data: { order: null } });
    const anonymous = await service.query('{ order(id: "12") { id } }');
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('pages User.orders for the user themself, filtered by status, in constant statements', async () => {
    for (const id of [1, 2, 3]) {
      service.statements.reset();
      const { body } = await service.query(
        ORDERS,
        { r: [{ __typename: 'User', id: String(id) }], filter: { status: 'DELIVERED' } },
        as(id),
      );
      expect(body.errors).toBeUndefined();
      // page, lines, count
      expect(service.statements.count).toBe(3);
      const user = (body.data as any)._entities[0];
      const rows = await service.running.database.sql`
        select id from orders.orders where buyer_id = ${id} and status = 'DELIVERED' order by total_cents desc, id desc`;
      expect(user.orders.totalCount).toBe(rows.length);
      expect(user.orders.edges.map((e: any) => e.node.id)).toEqual(rows.slice(0, 3).map((r) => String(r.id)));
      for (const edge of user.orders.edges) expect(edge.node.status).toBe('DELIVERED');
    }
  });

  it('maps every column of a User.orders page as the keyed read does', async () => {
    const fields = 'id total status createdAt buyer { id }';
    const { body } = await service.query(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders(first: 5) { edges { node { ${fields} } } } } } }`,
      { r: [{ __typename: 'User', id: '1' }] },
      as(1),
    );
    expect(body.errors).toBeUndefined();
    const nodes = (body.data as any)._entities[0].orders.edges.map((edge: any) => edge.node);
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      const single = await service.query(`{ order(id: "${node.id}") { ${fields} } }`, {}, as(1));
      expect(node).toEqual((single.body.data as any).order);
    }
  });

  it('refuses User.orders of another user', async () => {
    const { body } = await service.query(ORDERS, { r: [{ __typename: 'User', id: '2' }] }, as(1));
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
