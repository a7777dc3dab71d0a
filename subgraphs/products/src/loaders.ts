// Per-request DataLoaders of the products subgraph (built in the context factory).
import type { Database } from '@trellis/db';
import { loaderByKey } from '@trellis/db/loaders';
import { inArray } from 'drizzle-orm';
import { type ProductRow, products, type schema } from './db/schema.ts';

export function createLoaders({ db }: Database<typeof schema>) {
  return {
    productById: loaderByKey<number, ProductRow>(
      (ids) => db.select().from(products).where(inArray(products.id, ids)),
      (row) => row.id,
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
