// Exactly-once effects on at-least-once delivery: the processed-message record and the
// side effect commit together; a concurrent duplicate waits on the record's key and skips.
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ProcessedMessagesTable } from './schema.ts';

export interface MessageRef {
  queue: string;
  messageId: string;
}

export type OnceResult<T> = { skipped: true } | { skipped: false; value: T };

/**
 * Runs `effect` in a transaction that first claims (queue, messageId) in the processed-messages
 * table. Already claimed by a committed run → `{ skipped: true }` and the effect does not run.
 */
export async function processOnce<
  T,
  TQueryResult extends PgQueryResultHKT,
  TFullSchema extends Record<string, unknown>,
>(
  db: PgDatabase<TQueryResult, TFullSchema>,
  table: ProcessedMessagesTable,
  message: MessageRef,
  // biome-ignore lint/suspicious/noExplicitAny: any relational schema
  effect: (tx: PgTransaction<TQueryResult, TFullSchema, any>) => Promise<T>,
): Promise<OnceResult<T>> {
  return db.transaction(async (tx) => {
    const claimed = await tx
      .insert(table)
      .values({ queue: message.queue, messageId: message.messageId })
      .onConflictDoNothing()
      .returning({ messageId: table.messageId });
    if (claimed.length === 0) return { skipped: true } as const;
    return { skipped: false, value: await effect(tx) } as const;
  });
}
