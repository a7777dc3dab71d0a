// Every job handler of the orders worker (src/worker.ts); add a queue's handler here.
import type { JobHandler } from '@trellis/jobs/worker';
import type { WorkerDeps } from '@trellis/subgraph-kit/worker';
import { Gauge } from 'prom-client';
import type { schema } from '../db/schema.ts';
import { settings } from '../env.ts';
import { notificationHandler } from './notification.ts';

export function orderHandlers({ database, logger, registry }: WorkerDeps<typeof schema>): JobHandler[] {
  const env = settings();
  const breakerState = new Gauge({
    name: 'trellis_jobs_webhook_breaker_state',
    help: 'Circuit breaker of the order-confirmation webhook: 0 closed, 1 half-open, 2 open.',
    registers: [registry],
  });
  return [
    notificationHandler({
      database,
      url: env.NOTIFY_WEBHOOK_URL,
      secret: env.NOTIFY_WEBHOOK_SECRET,
      timeoutMs: env.NOTIFY_TIMEOUT_MS,
      breaker: {
        errorThresholdPercentage: env.NOTIFY_BREAKER_ERROR_PERCENT,
        volumeThreshold: env.NOTIFY_BREAKER_VOLUME,
        resetTimeout: env.NOTIFY_BREAKER_RESET_MS,
      },
      onBreakerState: (state) => {
        breakerState.set({ closed: 0, half_open: 1, open: 2 }[state]);
        logger[state === 'open' ? 'warn' : 'info']({ state }, `webhook circuit breaker ${state}`);
      },
    }),
  ];
}
