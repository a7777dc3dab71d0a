// The User entity as accounts owns it.
import { referenceById } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';

export const User: UserResolvers = {
  __resolveReference: referenceById((loaders) => loaders.userById),
  id: (row) => String(row.id),
  // Only the user themself may read it; everyone else gets null.
  email: (row, _args, { viewer }) => (viewer.userId === String(row.id) ? row.email : null),
};
