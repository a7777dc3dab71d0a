// Every filter and order User.orders offers is served by an index (EXPLAIN on 10,000 orders).
import { seedPlan } from '@trellis/db/seed';
import { sequentialScans } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'), { plan: seedPlan(2) });
  await service.running.database.sql`vacuum analyze orders.orders`;
  await service.running.database.sql`vacuum analyze orders.order_lines`;
});
afterAll(async () => {
  await service?.stop();
});

const FILTERS = [
  null,
  { status: 'SHIPPED' },
  { createdAfter: '2025-03-01T00:00:00Z', createdBefore: '2025-09-01T00:00:00Z' },
  { status: 'DELIVERED', createdAfter: '2025-06-01T00:00:00Z' },
];
const QUERY = `query($r: [_Any!]!, $first: Int, $after: String, $last: Int, $before: String, $filter: OrderFilter, $orderBy: OrderOrder) {
  _entities(representations: $r) { ... on User { orders(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount edges { node { id total lines { quantity } } } pageInfo { endCursor startCursor } } } } }`;

describe('orders: indexes match every query path', () => {
  for (const field of ['CREATED_AT', 'TOTAL']) {
    for (const direction of ['ASC', 'DESC']) {
      it(`User.orders ${field} ${direction} under every filter`, async () => {
        // Orders are visible to their buyer only: one user per request, as that user.
        const user = { as: { userId: '3', scopes: [] } };
        for (const filter of FILTERS) {
          const base = { r: [{ __typename: 'User', id: '3' }], filter, orderBy: { field, direction } };
          service.statements.reset();
          const first = await service.query(QUERY, { ...base, first: 3 }, user);
          expect(first.body.errors).toBeUndefined();
          const page = (first.body.data as any)._entities[0].orders;
          if (page.pageInfo.endCursor) {
            await service.query(QUERY, { ...base, first: 3, after: page.pageInfo.endCursor }, user);
            await service.query(QUERY, { ...base, last: 2, before: page.pageInfo.startCursor }, user);
          }
          expect(
            await sequentialScans(service.running.database.sql, service.statements),
            JSON.stringify(filter),
          ).toEqual([]);
        }
      });
    }
  }
});
