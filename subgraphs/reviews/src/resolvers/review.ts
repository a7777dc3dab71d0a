// The Review entity.
import { parseId } from '@trellis/subgraph-kit';
import type { ReviewResolvers } from '../generated/graphql.ts';

export const Review: ReviewResolvers = {
  __resolveReference: (reference, { loaders }) => {
    const id = parseId(reference.id);
    return id === null ? null : loaders.reviewById.load(id);
  },
  id: (row) => String(row.id),
  author: (row) => ({ id: String(row.authorId) }),
  product: (row) => ({ id: String(row.productId) }),
};
