// Every filter and order the review lists offer is served by an index: EXPLAIN each
// statement of Query.reviews, Product.reviews and User.reviews on 40,000 reviews.
import { seedPlan } from '@trellis/db/seed';
import { sequentialScans } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'), { plan: seedPlan(2) });
  await service.running.database.sql`vacuum analyze reviews.reviews`;
});
afterAll(async () => {
  await service?.stop();
});

const FILTERS = [null, { rating: 2 }, { minRating: 4 }];
const LIST = `totalCount edges { node { id } } pageInfo { endCursor startCursor }`;
const TOP = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ReviewFilter, $orderBy: ReviewOrder) {
  reviews(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) { ${LIST} } }`;
const NESTED = (
  type: string,
) => `query($r: [_Any!]!, $first: Int, $after: String, $last: Int, $before: String, $filter: ReviewFilter, $orderBy: ReviewOrder) {
  _entities(representations: $r) { ... on ${type} { reviews(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) { ${LIST} } } } }`;

async function walk(query: string, base: Record<string, unknown>, pick: (data: any) => any) {
  const first = await service.query(query, { ...base, first: 10 });
  expect(first.body.errors).toBeUndefined();
  const { endCursor, startCursor } = pick(first.body.data).pageInfo;
  if (endCursor) {
    await service.query(query, { ...base, first: 10, after: endCursor });
    await service.query(query, { ...base, last: 3, before: startCursor });
  }
}

describe('reviews: indexes match every query path', () => {
  for (const field of ['CREATED_AT', 'RATING']) {
    for (const direction of ['ASC', 'DESC']) {
      it(`${field} ${direction}: Query.reviews, Product.reviews and User.reviews under every filter`, async () => {
        for (const filter of FILTERS) {
          const orderBy = { field, direction };
          service.statements.reset();
          await walk(TOP, { filter, orderBy }, (d) => d.reviews);
          const products = Array.from({ length: 20 }, (_, i) => ({ __typename: 'Product', id: String(i + 1) }));
          await walk(NESTED('Product'), { r: products, filter, orderBy }, (d) => d._entities[0].reviews);
          const users = Array.from({ length: 20 }, (_, i) => ({ __typename: 'User', id: String(i + 1) }));
          await walk(NESTED('User'), { r: users, filter, orderBy }, (d) => d._entities[0].reviews);
          expect(service.statements.count).toBeGreaterThanOrEqual(6);
          // The one exemption: totalCount of every review, unfiltered, reads every row by
          // definition (an index-only scan would too); the planner picks the cheaper read.
          const wholeTableCount = (q: string) => q === 'select count(*) from "reviews"."reviews"';
          expect(
            await sequentialScans(service.running.database.sql, service.statements, { allow: wholeTableCount }),
            JSON.stringify(filter),
          ).toEqual([]);
        }
      });
    }
  }

  it('aggregates (averageRating, reviewCount) for a page of products', async () => {
    // The aggregates are one narrow row per product (the enrich-review job keeps them): the
    // seed's 4,000 fit in 34 pages, which the planner rightly reads whole rather than probe
    // 50 keys. Give the table a catalogue's worth of products (as many as the reviews the
    // aggregates used to be computed from) so the plan is the one production gets.
    const sql = service.running.database.sql;
    await sql`insert into reviews.product_ratings (product_id, review_count, rating_sum)
      select i, 1, 4 from generate_series(100001, 140000) as i`;
    await sql`vacuum analyze reviews.product_ratings`;
    service.statements.reset();
    const products = Array.from({ length: 50 }, (_, i) => ({ __typename: 'Product', id: String(i + 1) }));
    await service.query(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { averageRating reviewCount } } }',
      { r: products },
    );
    expect(service.statements.count).toBe(1);
    expect(await sequentialScans(service.running.database.sql, service.statements)).toEqual([]);
  });
});
