// Per-request DataLoaders of the products subgraph (built in the context factory).
import type { Database } from '@trellis/db';
import { loaderByKey } from '@trellis/db/loaders';
import type { ContextOf } from '@trellis/subgraph-kit';
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
/** What every resolver receives (typed by codegen's contextType). */
export type Context = ContextOf<typeof createLoaders>;
