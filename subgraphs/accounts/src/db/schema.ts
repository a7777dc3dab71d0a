// Tables of the accounts subgraph, in Postgres schema `accounts`. Pure: no connection.

import { cacheOutboxTable } from '@trellis/cache/outbox';
import { bigint, pgSchema, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const accountsSchema = pgSchema('accounts');

export const users = accountsSchema.table(
  'users',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_username_key').on(t.username), uniqueIndex('users_email_key').on(t.email)],
);

export type UserRow = typeof users.$inferSelect;
/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(accountsSchema);

export const schema = { users, cacheOutbox };
