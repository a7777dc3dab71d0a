// The write side of review enrichment: stores a review's analysis and counts it in its
// product's rating aggregates, in the caller's transaction (the enrich-review job's, with
// its processed-message record), at most once per review.
import { recordInvalidations } from '@trellis/cache/outbox';
import type { Database } from '@trellis/db';
import { eq, sql } from 'drizzle-orm';
import { cacheOutbox, productRatings, reviews, type schema } from '../db/schema.ts';
import { analyzeReview } from './analysis.ts';

/** A transaction of the reviews database (drizzle). */
export type ReviewsTx = Parameters<Parameters<Database<typeof schema>['db']['transaction']>[0]>[0];

export interface EnrichedReview {
  reviewId: number;
  productId: number;
  sentiment: number;
  keywords: string[];
}

/**
 * Analyses review `reviewId` and counts it in product_ratings. Returns null, writing
 * nothing, when the review is unknown or already enriched: a re-run never counts twice
 * (the row lock serialises two concurrent runs).
 */
export async function enrichReview(tx: ReviewsTx, reviewId: number): Promise<EnrichedReview | null> {
  const [review] = await tx.select().from(reviews).where(eq(reviews.id, reviewId)).for('update');
  if (!review || review.enrichedAt !== null) return null;
  const { sentiment, keywords } = analyzeReview(review.body);
  await tx.update(reviews).set({ sentiment, keywords, enrichedAt: new Date() }).where(eq(reviews.id, reviewId));
  await addToProductRatings(tx, review.productId, { rating: review.rating, sentiment });
  await recordInvalidations(tx, cacheOutbox, [{ typename: 'Review', id: String(reviewId) }]);
  return { reviewId, productId: review.productId, sentiment, keywords };
}

/**
 * The one place product rating aggregates change. Cached responses that hold the product
 * must be invalidated in this same transaction (the cache outbox).
 */
export async function addToProductRatings(
  tx: ReviewsTx,
  productId: number,
  review: { rating: number; sentiment: number | null },
): Promise<void> {
  const hasSentiment = review.sentiment === null ? 0 : 1;
  await tx
    .insert(productRatings)
    .values({
      productId,
      reviewCount: 1,
      ratingSum: review.rating,
      sentimentSum: review.sentiment ?? 0,
      sentimentCount: hasSentiment,
    })
    .onConflictDoUpdate({
      target: productRatings.productId,
      set: {
        reviewCount: sql`${productRatings.reviewCount} + 1`,
        ratingSum: sql`${productRatings.ratingSum} + ${review.rating}`,
        sentimentSum: sql`${productRatings.sentimentSum} + ${review.sentiment ?? 0}`,
        sentimentCount: sql`${productRatings.sentimentCount} + ${hasSentiment}`,
        updatedAt: sql`now()`,
      },
    });
  // Cached responses holding the product (averageRating, reviewCount) are now stale.
  await recordInvalidations(tx, cacheOutbox, [{ typename: 'Product', id: String(productId) }]);
}
