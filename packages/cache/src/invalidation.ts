// Entity invalidation: how cached responses are tagged with the entities they hold, the
// message a committed write publishes, and its two transports — Redis (every gateway replica
// subscribes) or an HTTP POST to the gateway's invalidation endpoint when there is no Redis
// (embedded development). On Redis a publish applies the invalidation to the shared store
// itself — entries deleted, durable markers left (./scripts.ts) — and announces it, in one
// atomic step: it no longer depends on a gateway being able to apply it when the message
// arrives (a gateway whose cache circuit was open skipped it, and the old entry came back).
import { withTimeout } from '@trellis/resilience';
import { z } from 'zod';
import { closeRedisClient, createRedisClient } from './redis.ts';
import { MARKER_TTL_MS, PURGE_SCRIPT } from './scripts.ts';
import { type EntityRef, tagsToPurge } from './tags.ts';

export type { EntityRef } from './tags.ts';

/** Scope of the service identity a relay presents to the gateway's purge endpoint (no Redis). */
export const INVALIDATE_SCOPE = 'cache:invalidate';

/** What a write publishes: changed entities, and/or whole types to drop (admin purge). */
export interface InvalidationBatch {
  entities: EntityRef[];
  types?: string[];
  /** Entries the publisher already deleted from the shared cache (set by the Redis publish). */
  purged?: number;
}

const TYPENAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;
/** Entities and types in one batch at most; a relay sends larger outboxes in several. */
export const MAX_BATCH = 1000;

/** The wire format, validated wherever a batch is received (Redis message or HTTP body). */
export const invalidationBatchSchema = z
  .object({
    entities: z
      .array(
        z.object({ typename: z.string().regex(TYPENAME, 'not a GraphQL type name'), id: z.string().min(1).max(256) }),
      )
      .max(MAX_BATCH)
      .default([]),
    types: z.array(z.string().regex(TYPENAME, 'not a GraphQL type name')).max(MAX_BATCH).optional(),
    purged: z.number().int().min(0).optional(),
  })
  .refine((batch) => batch.entities.length > 0 || (batch.types?.length ?? 0) > 0, {
    message: 'name at least one entity or type',
  });

/** The pub/sub channel of a cache namespace. */
export const invalidationChannel = (namespace: string) => `${namespace}:invalidations`;

export interface Publisher {
  /** Resolves once the batch is handed over; rejects when it was not (the outbox keeps it). */
  publish(batch: InvalidationBatch): Promise<void>;
  close(): Promise<void>;
}

export interface RedisTransportOptions {
  url: string;
  /** Same namespace as the gateways' cache (CACHE_NAMESPACE). @default 'trellis' */
  namespace?: string;
  /** Bound on one publish. @default 2000 */
  timeoutMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Applies batches to the namespace's shared cache (entries deleted, markers left) and
 * publishes them on its channel, atomically: resolved means applied, so the outbox row may go.
 */
export function createRedisPublisher(options: RedisTransportOptions): Publisher {
  const client = createRedisClient(options.url, options.onError ?? (() => {}));
  const namespace = options.namespace ?? 'trellis';
  const channel = invalidationChannel(namespace);
  const timeoutMs = options.timeoutMs ?? 2000;
  let connecting: Promise<unknown> | undefined;
  return {
    async publish(batch) {
      // isOpen stays true while the client reconnects on its own; false only before the first
      // connect or after a failed one.
      if (!client.isOpen) connecting = client.connect().catch(() => {});
      await withTimeout(
        (async () => {
          await connecting;
          if (!client.isReady) throw new Error('Redis is not connected');
          await client.sendCommand([
            'EVAL',
            PURGE_SCRIPT,
            '0',
            namespace,
            String(MARKER_TTL_MS),
            channel,
            JSON.stringify(batch),
            ...tagsToPurge(batch),
          ]);
        })(),
        timeoutMs,
        'publish',
      );
    },
    async close() {
      if (client.isOpen) await closeRedisClient(client);
    },
  };
}

export interface Subscription {
  close(): Promise<void>;
}

/** Subscribes to the namespace's channel; `onBatch` gets every valid batch (invalid ones go to onError). */
export async function subscribeInvalidations(
  options: RedisTransportOptions & { onBatch: (batch: InvalidationBatch) => void | Promise<void> },
): Promise<Subscription> {
  const onError = options.onError ?? (() => {});
  const client = createRedisClient(options.url, onError);
  const listener = (message: string) => {
    let batch: InvalidationBatch;
    try {
      batch = invalidationBatchSchema.parse(JSON.parse(message));
    } catch (error) {
      onError(error);
      return;
    }
    Promise.resolve(options.onBatch(batch)).catch(onError);
  };
  // The client reconnects and resubscribes by itself after an outage; the first connect is
  // bounded so a gateway starts (uncached invalidation-wise) even when Redis is down.
  const connected = client
    .connect()
    .then(() => client.subscribe(invalidationChannel(options.namespace ?? 'trellis'), listener));
  await withTimeout(connected, 2000, 'subscribe').catch(onError);
  return {
    close: () => closeRedisClient(client),
  };
}

export interface HttpPublisherOptions {
  /** The gateway's purge endpoint, e.g. http://localhost:4000/admin/cache/purge (or a function giving it). */
  url: string | (() => string);
  /** Headers of each POST (the relay's signed service identity). */
  headers: () => Promise<Record<string, string>>;
  /** @default 2000 */
  timeoutMs?: number;
}

/** Without Redis: POSTs each batch to the gateway (one gateway: embedded development). */
export function createHttpPublisher(options: HttpPublisherOptions): Publisher {
  return {
    async publish(batch) {
      const response = await fetch(typeof options.url === 'string' ? options.url : options.url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await options.headers()) },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`invalidation POST answered ${response.status}`);
    },
    async close() {},
  };
}
