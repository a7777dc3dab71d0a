// Review writes: a new review, its jobs (jobs/enqueue.ts) and its cache invalidations are
// written by the caller's transaction, so all commit or none does.
import { recordInvalidations } from '@trellis/cache/outbox';
import type { Executor } from '@trellis/jobs';
import { cacheOutbox, type ReviewRow, reviews } from './db/schema.ts';
import { enqueueReviewAdded } from './jobs/enqueue.ts';
import type { ReviewsTx } from './jobs/enrichment.ts';

export async function insertReview(
  tx: ReviewsTx,
  values: { productId: number; authorId: number; rating: number; body: string },
): Promise<ReviewRow> {
  const [row] = await tx.insert(reviews).values(values).returning();
  if (!row) throw new Error('insert into reviews.reviews returned no row');
  await enqueueReviewAdded(tx as unknown as Executor, row.id);
  // The product's and the author's review lists now hold one more review.
  await recordInvalidations(tx, cacheOutbox, [
    { typename: 'Review', id: String(row.id) },
    { typename: 'Product', id: String(values.productId) },
    { typename: 'User', id: String(values.authorId) },
  ]);
  return row;
}
