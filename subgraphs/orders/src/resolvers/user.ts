// User as orders extends it: their orders, batched per request.
import { emptyConnection } from '@trellis/relay';
import { parseId } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';
import { checkOrderListArgs } from '../lists.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  orders: (user, args, { loaders }) => {
    checkOrderListArgs(args);
    const id = parseId(user.id);
    return id === null ? emptyConnection() : loaders.ordersByBuyer(args).load(id);
  },
};
