// The orders subgraph: Order and its lines, User.orders.
import { fileURLToPath } from 'node:url';
import { defineSubgraph, loadTypeDefs } from '@trellis/subgraph-kit';
import { sql } from 'drizzle-orm';
import { schema } from './db/schema.ts';
import { seedOrders } from './db/seed.ts';
import { jobs } from './jobs/queues.ts';
import { createLoaders } from './loaders.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Order, OrderLine } from './resolvers/order.ts';
import { Query } from './resolvers/query.ts';
import { User } from './resolvers/user.ts';

export const subgraph = defineSubgraph({
  name: 'orders',
  defaultPort: 4005,
  typeDefs: loadTypeDefs(new URL('./schema.graphql', import.meta.url)),
  resolvers: { Query, Mutation, Order, OrderLine, User },
  schema,
  migrationsFolder: fileURLToPath(new URL('../migrations', import.meta.url)),
  createLoaders,
  jobs,
  seed: seedOrders,
  isEmpty: async ({ db }) => (await db.execute(sql`select 1 from orders.orders limit 1`)).length === 0,
});
