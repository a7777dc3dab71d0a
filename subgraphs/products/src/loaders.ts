// Per-request DataLoaders of the products subgraph (built in the context factory).
import type { Database } from '@trellis/db';
import DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { type ProductRow, products, type schema } from './db/schema.ts';

export function createLoaders({ db }: Database<typeof schema>) {
  return {
    productById: new DataLoader<number, ProductRow | null>(async (ids) => {
      const rows = await db
        .select()
        .from(products)
        .where(inArray(products.id, ids as number[]));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
