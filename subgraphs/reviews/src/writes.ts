// Review writes with their jobs: a new review and its enrich-review job are written by the
// caller's transaction, so both commit or neither does.
import type { Executor } from '@trellis/jobs';
import { type ReviewRow, reviews } from './db/schema.ts';
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
  return row;
}
