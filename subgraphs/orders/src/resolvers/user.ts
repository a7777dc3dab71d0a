// User as orders extends it: their orders, batched per request.
import { parseId } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';
import { checkOrderListArgs } from '../lists.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  orders: (user, args, { loaders }) => {
    checkOrderListArgs(args);
    const id = parseId(user.id);
    if (id === null) {
      return {
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
        totalCount: () => 0,
      };
    }
    return loaders.ordersByBuyer(args).load(id);
  },
};
