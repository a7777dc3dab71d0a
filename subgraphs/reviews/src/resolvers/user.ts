// User as reviews extends it: the reviews they wrote.
import { emptyConnection } from '@trellis/relay';
import { parseId } from '@trellis/subgraph-kit';
import type { UserResolvers } from '../generated/graphql.ts';
import { checkReviewListArgs } from '../lists.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  reviews: (user, args, { loaders }) => {
    checkReviewListArgs(args);
    const id = parseId(user.id);
    return id === null ? emptyConnection() : loaders.reviewsByAuthor(args).load(id);
  },
};
