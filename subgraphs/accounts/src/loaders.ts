// Per-request DataLoaders of the accounts subgraph.
import type { Database } from '@trellis/db';
import DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { type schema, type UserRow, users } from './db/schema.ts';

export function createLoaders({ db }: Database<typeof schema>) {
  return {
    userById: new DataLoader<number, UserRow | null>(async (ids) => {
      const rows = await db
        .select()
        .from(users)
        .where(inArray(users.id, ids as number[]));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
