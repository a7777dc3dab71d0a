// The job queues of the reviews subgraph (pg-boss in schema reviews_jobs).
import { createJobs, defineQueue } from '@trellis/jobs';
import { z } from 'zod';

/** Analyses a new review and counts it in its product's aggregates (enqueued by addReview). */
export const enrichReviewQueue = defineQueue({
  name: 'enrich-review',
  payload: z.strictObject({ reviewId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
  maxPayloadBytes: 256,
  retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 },
  expireInSeconds: 60,
});

export const reviewsJobs = createJobs({ domain: 'reviews', queues: [enrichReviewQueue] });
