// Per-request DataLoaders of the reviews subgraph.
import type { Database } from '@trellis/db';
import { batchLoader, loaderByKey } from '@trellis/db/loaders';
import { nestedConnectionLoaders } from '@trellis/relay';
import type { ContextOf } from '@trellis/subgraph-kit';
import { inArray } from 'drizzle-orm';
import { productRatings, type ReviewRow, reviews, type schema } from './db/schema.ts';
import { reviewPagesBy } from './lists.ts';

export interface RatingStats {
  count: number;
  average: number | null;
  /** Mean sentiment of the counted reviews that have one. */
  sentiment: number | null;
}

export function createLoaders(database: Database<typeof schema>) {
  const { db } = database;
  return {
    reviewById: loaderByKey<number, ReviewRow>(
      (ids) => db.select().from(reviews).where(inArray(reviews.id, ids)),
      (row) => row.id,
    ),
    /**
     * averageRating, reviewCount and averageSentiment for many products in one statement,
     * by key from the aggregates the enrich-review job maintains (a review counts once
     * enriched: eventually consistent, seconds behind addReview).
     */
    ratingStatsByProductId: batchLoader<number, RatingStats>(async (ids) => {
      const rows = await db
        .select({
          productId: productRatings.productId,
          reviewCount: productRatings.reviewCount,
          ratingSum: productRatings.ratingSum,
          sentimentSum: productRatings.sentimentSum,
          sentimentCount: productRatings.sentimentCount,
        })
        .from(productRatings)
        .where(inArray(productRatings.productId, ids as number[]));
      const byId = new Map(rows.map((row) => [row.productId, row]));
      return ids.map((id) => {
        const row = byId.get(id);
        if (!row || row.reviewCount === 0) return { count: 0, average: null, sentiment: null };
        return {
          count: row.reviewCount,
          average: row.ratingSum / row.reviewCount,
          sentiment: row.sentimentCount === 0 ? null : row.sentimentSum / row.sentimentCount,
        };
      });
    }),
    reviewsByProduct: nestedConnectionLoaders(reviewPagesBy(database, reviews.productId)),
    reviewsByAuthor: nestedConnectionLoaders(reviewPagesBy(database, reviews.authorId)),
  };
}
/** What every resolver receives (typed by codegen's contextType). */
export type Context = ContextOf<typeof createLoaders>;
