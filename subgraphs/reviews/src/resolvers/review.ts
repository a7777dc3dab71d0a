// The Review entity.
import { referenceById } from '@trellis/subgraph-kit';
import type { ReviewResolvers } from '../generated/graphql.ts';

export const Review: ReviewResolvers = {
  __resolveReference: referenceById((loaders) => loaders.reviewById),
  id: (row) => String(row.id),
  author: (row) => ({ id: String(row.authorId) }),
  product: (row) => ({ id: String(row.productId) }),
};
