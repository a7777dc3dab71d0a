// The orders subgraph: Order and its lines, User.orders.
import { defineSubgraph } from '@trellis/subgraph-kit';
import { schema } from './db/schema.ts';
import { seedOrders } from './db/seed.ts';
import { invoiceLinks } from './env.ts';
import { INVOICE_ROUTE } from './invoices/link.ts';
import { invoiceRoute } from './invoices/route.ts';
import { jobs } from './jobs/queues.ts';
import { createLoaders } from './loaders.ts';
import { Invoice } from './resolvers/invoice.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Order, OrderLine } from './resolvers/order.ts';
import { Query } from './resolvers/query.ts';
import { User } from './resolvers/user.ts';

export const subgraph = defineSubgraph({
  module: import.meta.url,
  resolvers: { Query, Mutation, Order, OrderLine, Invoice, User },
  schema,
  outbox: schema.cacheOutbox,
  createLoaders,
  jobs,
  seed: seedOrders,
  routes: (database) => ({
    [INVOICE_ROUTE]: invoiceRoute(database, { secret: () => invoiceLinks().INVOICE_LINK_SECRET }),
  }),
  seededTable: schema.orders,
  // Invoice link settings are checked at start: a bad value stops the service with one line.
  checkEnv: invoiceLinks,
});
