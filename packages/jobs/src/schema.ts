// The processed-messages table, one per subgraph schema: a handler writes its side effect
// and this record in one transaction, so a re-run of the same message skips the effect.
// Pure (no connection): a subgraph's db/schema.ts calls the factory and migrates it.
import { type PgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export function processedMessagesTable<TSchema extends string>(schema: PgSchema<TSchema>) {
  return schema.table(
    'processed_messages',
    {
      queue: text('queue').notNull(),
      messageId: text('message_id').notNull(),
      processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.queue, t.messageId] })],
  );
}

export type ProcessedMessagesTable = ReturnType<typeof processedMessagesTable>;
