// Every filter and order Query.products offers is served by an index: EXPLAIN each
// statement it sends, on a catalogue large enough for the planner to care.
import { seedPlan } from '@trellis/db/seed';
import { sequentialScans } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'), { plan: seedPlan(2) });
  await service.running.database.sql`vacuum analyze products.products`;
});
afterAll(async () => {
  await service?.stop();
});

const FILTERS = [
  null,
  { category: 'kitchen' },
  { priceMin: 10, priceMax: 20 },
  { category: 'garden', priceMin: 100, priceMax: 150 },
  // Searches as users type them: specific enough that the trigram index pays off. (A one-word
  // term matching a twelfth of the catalogue makes a full scan the cheaper plan for the
  // count; the page statement still walks the order index.)
  { search: 'titanium watch' },
  { search: 'oak chair', category: 'toys' },
];
const QUERY = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter, $orderBy: ProductOrder) {
  products(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount edges { node { id } } pageInfo { endCursor startCursor }
  }
}`;

describe('products: indexes match every query path', () => {
  for (const field of ['PRICE', 'NAME', 'CREATED_AT']) {
    for (const direction of ['ASC', 'DESC']) {
      it(`${field} ${direction} under every filter, first page, next page and backward`, async () => {
        for (const filter of FILTERS) {
          const orderBy = { field, direction };
          service.statements.reset();
          const first = await service.query(QUERY, { first: 20, filter, orderBy });
          expect(first.body.errors).toBeUndefined();
          const { endCursor, startCursor } = (first.body.data as any).products.pageInfo;
          if (endCursor) {
            await service.query(QUERY, { first: 20, after: endCursor, filter, orderBy });
            await service.query(QUERY, { last: 5, before: startCursor, filter, orderBy });
          }
          expect(service.statements.count).toBeGreaterThanOrEqual(2);
          expect(
            await sequentialScans(service.running.database.sql, service.statements),
            JSON.stringify(filter),
          ).toEqual([]);
        }
      });
    }
  }
});
