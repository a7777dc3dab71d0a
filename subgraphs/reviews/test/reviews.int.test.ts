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

const PRODUCT_REVIEWS = /* GraphQL */ `
  query($r: [_Any!]!, $first: Int, $after: String, $orderBy: ReviewOrder) {
    _entities(representations: $r) {
      ... on Product {
        id
        reviewCount
        averageRating
        reviews(first: $first, after: $after, orderBy: $orderBy) {
          totalCount
          edges { cursor node { id rating createdAt author { id } product { id } } }
          pageInfo { hasNextPage hasPreviousPage endCursor }
        }
      }
    }
  }
`;

const products = (ids: number[]) => ids.map((id) => ({ __typename: 'Product', id: String(id) }));

describe('reviews subgraph', () => {
  it('loads a page of reviews for many products in a constant number of statements', async () => {
    const counts: number[] = [];
    for (const size of [1, 10, 100]) {
      service.statements.reset();
      const ids = Array.from({ length: size }, (_, i) => i + 1);
      const { body } = await service.query(PRODUCT_REVIEWS, { r: products(ids), first: 5 });
      expect(body.errors).toBeUndefined();
      expect((body.data as any)._entities).toHaveLength(size);
      counts.push(service.statements.count);
    }
    // one page query, one aggregate query, one count query — whatever the page size
    expect(counts).toEqual([3, 3, 3]);
  });

  it('matches the database: aggregates, order, and each parent’s own page', async () => {
    const rows = await service.running.database.sql`
      select id, product_id, rating from reviews.reviews where product_id in (4, 5) order by product_id, rating desc, id desc`;
    const { body } = await service.query(PRODUCT_REVIEWS, {
      r: products([4, 5]),
      first: 3,
      orderBy: { field: 'RATING', direction: 'DESC' },
    });
    expect(body.errors).toBeUndefined();
    for (const entity of (body.data as any)._entities) {
      const mine = rows.filter((r) => String(r.product_id) === entity.id);
      expect(entity.reviewCount).toBe(mine.length);
      expect(entity.reviews.totalCount).toBe(mine.length);
      expect(entity.averageRating).toBeCloseTo(mine.reduce((s, r) => s + r.rating, 0) / mine.length, 10);
      expect(entity.reviews.edges.map((e: any) => e.node.id)).toEqual(mine.slice(0, 3).map((r) => String(r.id)));
      expect(entity.reviews.pageInfo.hasNextPage).toBe(mine.length > 3);
      for (const edge of entity.reviews.edges) expect(edge.node.product.id).toBe(entity.id);
    }
  });

  it('continues each parent’s page from its own cursor', async () => {
    const first = await service.query(PRODUCT_REVIEWS, { r: products([6]), first: 2 });
    const page1 = (first.body.data as any)._entities[0].reviews;
    const second = await service.query(PRODUCT_REVIEWS, {
      r: products([6]),
      first: 2,
      after: page1.pageInfo.endCursor,
    });
    const page2 = (second.body.data as any)._entities[0].reviews;
    expect(page2.pageInfo.hasPreviousPage).toBe(true);
    const ids = [...page1.edges, ...page2.edges].map((e: any) => e.node.id);
    const rows = await service.running.database.sql`
      select id from reviews.reviews where product_id = 6 order by created_at desc, id desc limit 4`;
    expect(ids).toEqual(rows.map((r) => String(r.id)));
  });

  it('gives a product without reviews an empty connection and a null average', async () => {
    const { body } = await service.query(PRODUCT_REVIEWS, { r: products([987654]), first: 5 });
    expect((body.data as any)._entities[0]).toEqual({
      id: '987654',
      reviewCount: 0,
      averageRating: null,
      reviews: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: null } },
    });
  });

  it('serves User.reviews and rejects a cursor made under another ordering', async () => {
    const query =
      'query($r: [_Any!]!, $after: String, $orderBy: ReviewOrder) { _entities(representations: $r) { ... on User { reviews(first: 2, after: $after, orderBy: $orderBy) { edges { node { author { id } } } pageInfo { endCursor } } } } }';
    const { body } = await service.query(query, { r: [{ __typename: 'User', id: '3' }] });
    const page = (body.data as any)._entities[0].reviews;
    for (const edge of page.edges) expect(edge.node.author.id).toBe('3');
    const mismatched = await service.query(query, {
      r: [{ __typename: 'User', id: '3' }],
      after: page.pageInfo.endCursor,
      orderBy: { field: 'RATING', direction: 'ASC' },
    });
    expect(mismatched.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(mismatched.body.errors?.[0]?.message).toMatch(/issued for ordering CREATED_AT:DESC/);
  });
});
