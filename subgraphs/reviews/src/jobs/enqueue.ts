// The jobs a review write causes, enqueued in the write's transaction (one place to add a
// job: they commit, or roll back, with the review).
import type { Executor } from '@trellis/jobs';
import { enrichReviewQueue, reviewsJobs } from './queues.ts';

export async function enqueueReviewAdded(tx: Executor, reviewId: number): Promise<void> {
  // Keyed by review: even a replayed transaction cannot enqueue a second enrichment.
  await reviewsJobs.enqueue(tx, enrichReviewQueue, { reviewId }, { key: `review:${reviewId}` });
}
