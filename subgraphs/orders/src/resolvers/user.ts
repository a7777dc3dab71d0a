// User as orders extends it: their orders, batched per request.

import { forbidden } from '@trellis/errors';
import { emptyConnection } from '@trellis/relay';
import { parseId, requireUser } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';
import { checkOrderListArgs } from '../lists.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  // @authenticated at the gateway; here, only the user themself.
  orders: (user, args, { loaders, viewer }) => {
    if (requireUser(viewer) !== parseId(user.id)) throw forbidden('Orders are visible to their buyer only');
    checkOrderListArgs(args);
    const id = parseId(user.id);
    return id === null ? emptyConnection() : loaders.ordersByBuyer(args).load(id);
  },
};
