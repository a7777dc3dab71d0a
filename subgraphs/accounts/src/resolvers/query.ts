// Query fields of the accounts subgraph.
import { parseId } from '@trellis/subgraph-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  me: (_parent, _args, { viewer, loaders }) => {
    const id = viewer.userId === null ? null : parseId(viewer.userId);
    return id === null ? null : loaders.userById.load(id);
  },
  user: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.userById.load(key);
  },
};
