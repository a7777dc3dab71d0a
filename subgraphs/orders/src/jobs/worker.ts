// The orders worker: every job handler over the orders database (src/worker.ts runs it);
// add a queue's handler here.
import { createWebhook } from '@trellis/jobs/webhook';
import { webhookSettings } from '@trellis/subgraph-kit/env';
import type { WorkerDefinition } from '@trellis/subgraph-kit/worker';
import type { schema } from '../db/schema.ts';
import { notifySettings } from '../env.ts';
import { subgraph } from '../service.ts';
import { invoiceHandler } from './invoice.ts';
import { orderConfirmationHandler } from './order-confirmation.ts';

export const ordersWorker: WorkerDefinition<typeof schema> = {
  subgraph,
  handlers: ({ database, logger, registry }) => {
    const webhook = createWebhook({
      ...webhookSettings(notifySettings(), 'NOTIFY'),
      name: 'order-confirmation',
      registry,
      logger,
    });
    return [orderConfirmationHandler(database, webhook), invoiceHandler(database)];
  },
};
