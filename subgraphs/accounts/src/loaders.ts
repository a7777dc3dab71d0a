// Per-request DataLoaders of the accounts subgraph.
import type { Database } from '@trellis/db';
import { loaderByKey } from '@trellis/db/loaders';
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
export type Loaders = ReturnType<typeof createLoaders>;
