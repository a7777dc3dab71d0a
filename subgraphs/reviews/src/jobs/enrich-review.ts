// The enrich-review handler: analysis, review update, aggregate update and the
// processed-message record commit together, so a redelivered job changes nothing.
import type { Database } from '@trellis/db';
import { processOnce } from '@trellis/jobs';
import { handler } from '@trellis/jobs/worker';
import { processedMessages, type schema } from '../db/schema.ts';
import { enrichReview } from './enrichment.ts';
import { enrichReviewQueue } from './queues.ts';

export function enrichReviewHandler(database: Database<typeof schema>) {
  return handler(
    enrichReviewQueue,
    async ({ reviewId }, job) => {
      await processOnce(database.db, processedMessages, { queue: job.queue, messageId: job.messageId }, (tx) =>
        enrichReview(tx, reviewId),
      );
    },
    { concurrency: 4 },
  );
}
