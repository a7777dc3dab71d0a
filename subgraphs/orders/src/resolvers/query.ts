// Query fields of the orders subgraph.
import { parseId } from '@trellis/subgraph-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  order: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.orderById.load(key);
  },
};
