// Query fields of the accounts subgraph.
import { parseId } from '@trellis/subgraph-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  // Every request is anonymous until the gateway forwards verified identity (gateway issue).
  me: () => null,
  user: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.userById.load(key);
  },
};
