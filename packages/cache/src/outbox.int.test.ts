// The invalidation outbox on real Postgres and Redis: only committed writes are published,
// a process dying right after its commit loses nothing (the next relay publishes the rows),
// a failed publish keeps the rows, and NOTIFY wakes the relay without waiting for its poll.
import { randomBytes } from 'node:crypto';
import { postgres } from '@trellis/db';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { pgSchema } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createRedisPublisher,
  type InvalidationBatch,
  type Subscription,
  subscribeInvalidations,
} from './invalidation.ts';
import { cacheOutboxTable, recordInvalidations, startOutboxRelay } from './outbox.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const outbox = cacheOutboxTable(pgSchema('outbox_test'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cache invalidation outbox', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  let subscription: Subscription;
  const namespace = `test-outbox-${randomBytes(4).toString('hex')}`;
  const received: InvalidationBatch[] = [];
  const db = () => drizzle(sql);

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'trellis_outbox');
    sql = postgres(database.url, { max: 4, onnotice: () => {} });
    await sql.unsafe(`create schema outbox_test;
      create table outbox_test.cache_outbox (
        id bigint primary key generated always as identity,
        typename text not null, entity_id text not null,
        created_at timestamptz not null default now())`);
    subscription = await subscribeInvalidations({ url: REDIS_URL, namespace, onBatch: (b) => void received.push(b) });
  });
  afterAll(async () => {
    await subscription?.close();
    await sql?.end();
    await database?.drop();
  });

  /** A relay that only NOTIFY (or an explicit drain) wakes, publishing to `url`. */
  const relayTo = (url: string, timeoutMs?: number) =>
    startOutboxRelay({
      sql,
      table: outbox,
      publisher: createRedisPublisher({ url, namespace, ...(timeoutMs ? { timeoutMs } : {}) }),
      pollMs: 60_000,
    });
  const pendingRows = async () => (await sql`select count(*)::int as n from outbox_test.cache_outbox`)[0]?.n as number;
  const publishedIds = () => received.flatMap((b) => b.entities.map((e) => `${e.typename}:${e.id}`));

  it('publishes what committed before any relay ran (crash after commit), never what rolled back', async () => {
    // The writer "dies" right after its commit: no relay is running.
    await db().transaction(async (tx) => {
      await recordInvalidations(tx, outbox, [
        { typename: 'Product', id: '1' },
        { typename: 'Product', id: '1' },
        { typename: 'Review', id: '7' },
      ]);
    });
    await db()
      .transaction(async (tx) => {
        await recordInvalidations(tx, outbox, [{ typename: 'Product', id: '999' }]);
        throw new Error('rollback');
      })
      .catch(() => {});
    expect(await pendingRows()).toBe(2);

    const relay = await relayTo(REDIS_URL);
    try {
      await relay.drain();
      for (let i = 0; i < 40 && publishedIds().length < 2; i++) await sleep(25);
      expect(publishedIds().sort()).toEqual(['Product:1', 'Review:7']);
      expect(await pendingRows()).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('keeps rows when publishing fails, and the next relay publishes them', async () => {
    received.length = 0;
    const failing = await relayTo('redis://127.0.0.1:1', 300); // nothing listens there: every publish fails
    await db().transaction((tx) => recordInvalidations(tx, outbox, [{ typename: 'User', id: '3' }]));
    await expect(failing.drain()).rejects.toThrow();
    await failing.stop();
    expect(await pendingRows()).toBe(1);
    expect(received).toEqual([]);

    const relay = await relayTo(REDIS_URL);
    try {
      for (let i = 0; i < 80 && publishedIds().length < 1; i++) await sleep(25);
      expect(publishedIds()).toEqual(['User:3']);
      expect(await pendingRows()).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('NOTIFY at commit wakes the relay: published well within 1 s without a poll', async () => {
    received.length = 0;
    const relay = await relayTo(REDIS_URL);
    try {
      await relay.drain();
      const committed = performance.now();
      await db().transaction((tx) => recordInvalidations(tx, outbox, [{ typename: 'Product', id: '42' }]));
      while (publishedIds().length === 0 && performance.now() - committed < 2000) await sleep(10);
      expect(publishedIds()).toEqual(['Product:42']);
      expect(performance.now() - committed).toBeLessThan(1000);
    } finally {
      await relay.stop();
    }
  });
});
