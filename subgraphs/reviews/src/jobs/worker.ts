// The reviews worker: every job handler over the reviews database (src/worker.ts runs it);
// add a queue's handler here.
import type { WorkerDefinition } from '@trellis/subgraph-kit/worker';
import type { schema } from '../db/schema.ts';
import { subgraph } from '../service.ts';
import { enrichReviewHandler } from './enrich-review.ts';

export const reviewsWorker: WorkerDefinition<typeof schema> = {
  subgraph,
  handlers: ({ database }) => [enrichReviewHandler(database)],
};
