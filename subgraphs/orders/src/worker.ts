// The orders job worker process (`pnpm --filter @trellis/subgraph-orders worker`; started by
// `pnpm dev`): health and /metrics on port 4105, SIGTERM drains.
import { runWorker } from '@trellis/subgraph-kit/worker';
import { orderHandlers } from './jobs/handlers.ts';
import { subgraph } from './service.ts';

await runWorker({ subgraph, defaultPort: 4105, handlers: orderHandlers });
