// Process entry of the reviews worker (`pnpm --filter @trellis/subgraph-reviews worker`).
import { runWorker } from '@trellis/subgraph-kit/worker';
import { reviewsWorker } from './jobs/worker.ts';

await runWorker(reviewsWorker);
