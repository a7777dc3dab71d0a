// Exactly-once effects on at-least-once delivery: the processed-message record and the
// side effect commit together; a concurrent duplicate waits on the record's key and skips.
import { and, eq } from 'drizzle-orm';
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

/**
 * For effects outside the database (an HTTP delivery), which cannot share a transaction with
 * the record: check `isProcessed` first, perform the effect with the message id as the
 * receiver's idempotency key, then `markProcessed`. A crash in between repeats the delivery
 * with the same key, and the receiver drops it.
 */
export async function isProcessed<TQueryResult extends PgQueryResultHKT, TFullSchema extends Record<string, unknown>>(
  db: PgDatabase<TQueryResult, TFullSchema>,
  table: ProcessedMessagesTable,
  message: MessageRef,
): Promise<boolean> {
  const rows = await db
    .select({ messageId: table.messageId })
    .from(table)
    .where(and(eq(table.queue, message.queue), eq(table.messageId, message.messageId)));
  return rows.length > 0;
}

export async function markProcessed<TQueryResult extends PgQueryResultHKT, TFullSchema extends Record<string, unknown>>(
  db: PgDatabase<TQueryResult, TFullSchema>,
  table: ProcessedMessagesTable,
  message: MessageRef,
): Promise<void> {
  await db.insert(table).values({ queue: message.queue, messageId: message.messageId }).onConflictDoNothing();
}
