// Tables of the accounts subgraph, in Postgres schema `accounts`. Pure: no connection.
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
export const schema = { users };
