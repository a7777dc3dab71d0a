// Query fields of the orders subgraph.
import { jobQueuesField, parseId, requireUser } from '@trellis/subgraph-kit';
import type { QueryResolvers } from '../generated/graphql.ts';
import { jobs } from '../jobs/queues.ts';

export const Query: QueryResolvers = {
  // Someone else's order is indistinguishable from a missing one.
  order: async (_parent, { id }, { loaders, viewer }) => {
    const buyer = requireUser(viewer);
    const key = parseId(id);
    const order = key === null ? null : await loaders.orderById.load(key);
    return order && order.buyerId === buyer ? order : null;
  },
  // @requiresScopes at the gateway; checked again here (defence in depth).
  orderJobQueues: jobQueuesField(jobs),
};
