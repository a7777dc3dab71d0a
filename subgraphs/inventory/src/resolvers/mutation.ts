// Stock writes: one atomic statement each, so concurrent adjustments never race, in a short
// transaction with the cache invalidation of the product (the transactional outbox).

import { recordInvalidations } from '@trellis/cache/outbox';
import { userError } from '@trellis/errors';
import { parseId, requireScope } from '@trellis/subgraph-kit';
import { and, eq, gte, sql } from 'drizzle-orm';
import { cacheOutbox, stock } from '../db/schema.ts';
import type { MutationResolvers } from '../generated/graphql.ts';

const MAX_DELTA = 1_000_000;

export const Mutation: MutationResolvers = {
  adjustStock: async (_parent, { input }, { db, viewer }) => {
    requireScope(viewer, 'admin');
    const productId = parseId(input.productId);
    if (productId === null) {
      return { product: null, userErrors: [userError('NOT_FOUND', 'No product has this id', ['input', 'productId'])] };
    }
    if (!Number.isInteger(input.delta) || Math.abs(input.delta) > MAX_DELTA) {
      return {
        product: null,
        userErrors: [userError('INVALID', `delta must be an integer within ±${MAX_DELTA}`, ['input', 'delta'])],
      };
    }
    const rows = await db.transaction(async (tx) => {
      const changed =
        input.delta >= 0
          ? await tx
              .insert(stock)
              .values({ productId, quantity: input.delta })
              .onConflictDoUpdate({
                target: stock.productId,
                set: { quantity: sql`${stock.quantity} + excluded.quantity`, updatedAt: sql`now()` },
              })
              .returning({ quantity: stock.quantity })
          : await tx
              .update(stock)
              .set({ quantity: sql`${stock.quantity} + ${input.delta}`, updatedAt: sql`now()` })
              .where(and(eq(stock.productId, productId), gte(stock.quantity, -input.delta)))
              .returning({ quantity: stock.quantity });
      if (changed.length > 0) {
        await recordInvalidations(tx, cacheOutbox, [{ typename: 'Product', id: String(productId) }]);
      }
      return changed;
    });
    if (rows.length === 0) {
      return {
        product: null,
        userErrors: [userError('INSUFFICIENT_STOCK', 'Not enough stock for this adjustment', ['input', 'delta'])],
      };
    }
    return { product: { id: String(productId) }, userErrors: [] };
  },
};
