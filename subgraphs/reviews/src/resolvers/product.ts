// Product as reviews extends it: its reviews and rating aggregates, batched per request.
import { emptyConnection } from '@trellis/relay';
import { parseId } from '@trellis/subgraph-kit';
import type { ProductResolvers } from '../generated/graphql.ts';
import { checkReviewListArgs } from '../lists.ts';

export const Product: ProductResolvers = {
  __resolveReference: (reference) => reference,
  reviews: (product, args, { loaders }) => {
    checkReviewListArgs(args);
    const id = parseId(product.id);
    return id === null ? emptyConnection() : loaders.reviewsByProduct(args).load(id);
  },
  averageRating: async (product, _args, { loaders }) => {
    const id = parseId(product.id);
    return id === null ? null : (await loaders.ratingStatsByProductId.load(id)).average;
  },
  reviewCount: async (product, _args, { loaders }) => {
    const id = parseId(product.id);
    return id === null ? 0 : (await loaders.ratingStatsByProductId.load(id)).count;
  },
  averageSentiment: async (product, _args, { loaders }) => {
    const id = parseId(product.id);
    return id === null ? null : (await loaders.ratingStatsByProductId.load(id)).sentiment;
  },
};
