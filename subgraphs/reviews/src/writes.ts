// Review writes with their jobs: a new review and its enrich-review job are written by the
// caller's transaction, so both commit or neither does.
import { recordInvalidations } from '@trellis/cache/outbox';
import type { Executor } from '@trellis/jobs';
import { cacheOutbox, type ReviewRow, reviews } from './db/schema.ts';
import type { ReviewsTx } from './jobs/enrichment.ts';
import { enrichReviewQueue, reviewsJobs } from './jobs/queues.ts';

export async function insertReview(
  tx: ReviewsTx,
  values: { productId: number; authorId: number; rating: number; body: string },
): Promise<ReviewRow> {
  const [row] = await tx.insert(reviews).values(values).returning();
  if (!row) throw new Error('insert into reviews.reviews returned no row');
  await reviewsJobs.enqueue(
    tx as unknown as Executor,
    enrichReviewQueue,
    { reviewId: row.id },
    { key: `review:${row.id}` },
  );
  // The product's and the author's review lists now hold one more review.
  await recordInvalidations(tx, cacheOutbox, [
    { typename: 'Review', id: String(row.id) },
    { typename: 'Product', id: String(values.productId) },
    { typename: 'User', id: String(values.authorId) },
  ]);
  return row;
}
