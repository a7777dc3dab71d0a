// Every filter and order User.orders offers is served by an index (EXPLAIN on 10,000 orders).
import { seedPlan } from '@trellis/db/seed';
import { graphql, sequentialScans } from '@trellis/testing';
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
        const users = Array.from({ length: 20 }, (_, i) => ({ __typename: 'User', id: String(i + 1) }));
        for (const filter of FILTERS) {
          const base = { r: users, filter, orderBy: { field, direction } };
          service.statements.reset();
          const first = await graphql(service.url, QUERY, { ...base, first: 3 });
          expect(first.body.errors).toBeUndefined();
          const page = (first.body.data as any)._entities.find((u: any) => u.orders.pageInfo.endCursor)?.orders;
          if (page) {
            await graphql(service.url, QUERY, { ...base, first: 3, after: page.pageInfo.endCursor });
            await graphql(service.url, QUERY, { ...base, last: 2, before: page.pageInfo.startCursor });
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
