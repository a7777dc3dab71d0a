// Process entry of the orders worker (`pnpm --filter @trellis/subgraph-orders worker`; started
// by `pnpm dev`): health and /metrics on its package.json `trellis.worker.port`, SIGTERM drains.
import { runWorker } from '@trellis/subgraph-kit/worker';
import { ordersWorker } from './jobs/worker.ts';

await runWorker(ordersWorker);
