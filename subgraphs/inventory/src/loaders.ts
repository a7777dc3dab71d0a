// Per-request DataLoaders of the inventory subgraph.
import type { Database } from '@trellis/db';
import { batchLoader } from '@trellis/db/loaders';
import type { ContextOf } from '@trellis/subgraph-kit';
import { inArray } from 'drizzle-orm';
import { type schema, stock } from './db/schema.ts';

export function createLoaders({ db }: Database<typeof schema>) {
  return {
    /** Units on hand by product id; a product without a stock row has none. */
    quantityByProductId: batchLoader<number, number>(async (ids) => {
      const rows = await db
        .select({ productId: stock.productId, quantity: stock.quantity })
        .from(stock)
        .where(inArray(stock.productId, ids as number[]));
      const byId = new Map(rows.map((row) => [row.productId, row.quantity]));
      return ids.map((id) => byId.get(id) ?? 0);
    }),
  };
}
/** What every resolver receives (typed by codegen's contextType). */
export type Context = ContextOf<typeof createLoaders>;
