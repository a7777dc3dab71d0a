// Per-request DataLoaders of the reviews subgraph.
import type { Database } from '@trellis/db';
import { batchLoader, loaderByKey } from '@trellis/db/loaders';
import { nestedConnectionLoaders } from '@trellis/relay';
import { avg, count, inArray } from 'drizzle-orm';
import { type ReviewRow, reviews, type schema } from './db/schema.ts';
import { reviewPagesBy } from './lists.ts';

export interface RatingStats {
  count: number;
  average: number | null;
}

export function createLoaders(database: Database<typeof schema>) {
  const { db } = database;
  return {
    reviewById: loaderByKey<number, ReviewRow>(
      (ids) => db.select().from(reviews).where(inArray(reviews.id, ids)),
      (row) => row.id,
    ),
    /** averageRating and reviewCount for many products in one grouped statement. */
    ratingStatsByProductId: batchLoader<number, RatingStats>(async (ids) => {
      const rows = await db
        .select({ productId: reviews.productId, count: count(), average: avg(reviews.rating) })
        .from(reviews)
        .where(inArray(reviews.productId, ids as number[]))
        .groupBy(reviews.productId);
      const byId = new Map(rows.map((row) => [row.productId, row]));
      return ids.map((id) => {
        const row = byId.get(id);
        return row
          ? { count: row.count, average: row.average === null ? null : Number(row.average) }
          : { count: 0, average: null };
      });
    }),
    reviewsByProduct: nestedConnectionLoaders(reviewPagesBy(database, reviews.productId)),
    reviewsByAuthor: nestedConnectionLoaders(reviewPagesBy(database, reviews.authorId)),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
