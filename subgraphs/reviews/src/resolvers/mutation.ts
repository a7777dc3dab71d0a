// Review writes: one short transaction (the INSERT and the cache invalidations it causes:
// the review, its product's reviews and rating, its author's reviews); business outcomes are userErrors.

import { recordInvalidations } from '@trellis/cache/outbox';
import { userError } from '@trellis/errors';
import { parseId, requireUser } from '@trellis/subgraph-kit';
import { cacheOutbox, reviews } from '../db/schema.ts';
import type { MutationResolvers } from '../generated/graphql.ts';

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
    const row = await db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(reviews)
        .values({ productId, authorId, rating: input.rating, body })
        .returning();
      if (inserted) {
        await recordInvalidations(tx, cacheOutbox, [
          { typename: 'Review', id: String(inserted.id) },
          { typename: 'Product', id: String(productId) },
          { typename: 'User', id: String(authorId) },
        ]);
      }
      return inserted;
    });
    return { review: row ?? null, userErrors: [] };
  },
};
