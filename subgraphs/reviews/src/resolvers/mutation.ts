// Review writes: one short transaction (the review and its enrich-review job commit or roll
// back together); business outcomes are userErrors.
import { userError } from '@trellis/errors';
import { parseId, requireUser } from '@trellis/subgraph-kit';
import type { MutationResolvers } from '../generated/graphql.ts';
import { insertReview } from '../writes.ts';

const MAX_BODY = 5000;

export const Mutation: MutationResolvers = {
  addReview: async (_parent, { input }, { db, viewer }) => {
    const authorId = requireUser(viewer);
    const productId = parseId(input.productId);
    const errors = [];
    if (productId === null) errors.push(userError('NOT_FOUND', 'No product has this id', ['input', 'productId']));
    if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
      errors.push(userError('INVALID', 'Rating must be an integer from 1 to 5', ['input', 'rating']));
    }
    const body = input.body.trim();
    if (body.length === 0 || body.length > MAX_BODY) {
      errors.push(userError('INVALID', `Body must be 1 to ${MAX_BODY} characters`, ['input', 'body']));
    }
    if (errors.length > 0 || productId === null) return { review: null, userErrors: errors };
    // The catalogue is another subgraph: the product id is taken as given (an unknown id
    // yields a review whose product resolves to null), never looked up across services.
    const row = await db.transaction((tx) => insertReview(tx, { productId, authorId, rating: input.rating, body }));
    return { review: row, userErrors: [] };
  },
};
