// Catalogue writes. Business outcomes are userErrors; one short transaction per write, which
// records the cache invalidations of what it changed (the transactional outbox).

import { recordInvalidations } from '@trellis/cache/outbox';
import { userError } from '@trellis/errors';
import { parseId, requireScope } from '@trellis/subgraph-kit';
import { eq, sql } from 'drizzle-orm';
import { cacheOutbox, products } from '../db/schema.ts';
import type { MutationResolvers } from '../generated/graphql.ts';

export const Mutation: MutationResolvers = {
  updateProduct: async (_parent, { input }, { db, viewer }) => {
    requireScope(viewer, 'admin');
    const id = parseId(input.id);
    const changes: Partial<typeof products.$inferInsert> = {};
    const errors = [];
    if (input.name != null) {
      if (input.name.trim().length === 0 || input.name.length > 200)
        errors.push(userError('INVALID', 'Name must be 1 to 200 characters', ['input', 'name']));
      else changes.name = input.name.trim();
    }
    if (input.description != null) {
      if (input.description.length > 5000)
        errors.push(userError('INVALID', 'Description must be at most 5000 characters', ['input', 'description']));
      else changes.description = input.description;
    }
    if (input.category != null) {
      if (input.category.trim().length === 0 || input.category.length > 100)
        errors.push(userError('INVALID', 'Category must be 1 to 100 characters', ['input', 'category']));
      else changes.category = input.category.trim();
    }
    if (input.price != null) {
      if (!Number.isFinite(input.price) || input.price <= 0 || input.price > 10_000_000)
        errors.push(userError('INVALID', 'Price must be positive and at most 10000000', ['input', 'price']));
      else changes.priceCents = Math.round(input.price * 100);
    }
    if (id === null) errors.push(userError('NOT_FOUND', 'No product has this id', ['input', 'id']));
    if (errors.length > 0 || id === null) return { product: null, userErrors: errors };
    const row = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(products)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(eq(products.id, id))
        .returning();
      if (updated) await recordInvalidations(tx, cacheOutbox, [{ typename: 'Product', id: String(updated.id) }]);
      return updated;
    });
    if (!row) return { product: null, userErrors: [userError('NOT_FOUND', 'No product has this id', ['input', 'id'])] };
    return { product: row, userErrors: [] };
  },
};
