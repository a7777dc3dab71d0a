// Per-request DataLoaders of the accounts subgraph.
import type { Database } from '@trellis/db';
import { loaderByKey } from '@trellis/db/loaders';
import type { ContextOf } from '@trellis/subgraph-kit';
import { inArray } from 'drizzle-orm';
import { type schema, type UserRow, users } from './db/schema.ts';

export function createLoaders({ db }: Database<typeof schema>) {
  return {
    userById: loaderByKey<number, UserRow>(
      (ids) => db.select().from(users).where(inArray(users.id, ids)),
      (row) => row.id,
    ),
  };
}
/** What every resolver receives (typed by codegen's contextType). */
export type Context = ContextOf<typeof createLoaders>;
