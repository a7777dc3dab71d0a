// The User entity as accounts owns it.
import { parseId } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';

export const User: UserResolvers = {
  __resolveReference: (reference, { loaders }) => {
    const id = parseId(reference.id);
    return id === null ? null : loaders.userById.load(id);
  },
  id: (row) => String(row.id),
  // Only the user themself may read it; everyone else gets null.
  email: (row, _args, { viewer }) => (viewer.userId === String(row.id) ? row.email : null),
};
