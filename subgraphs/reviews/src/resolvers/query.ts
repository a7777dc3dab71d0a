// Query fields of the reviews subgraph.
import { parseId } from '@trellis/subgraph-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  review: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.reviewById.load(key);
  },
};
