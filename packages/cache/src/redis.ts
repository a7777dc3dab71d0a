// The one way Trellis opens a plain Redis client (node-redis) outside keyv: bounded connects,
// errors reported instead of thrown, reconnects with capped backoff, and no offline queue —
// while disconnected a command fails at once, so callers never wait on a Redis that is gone.
// Used by the invalidation transport and the gateway's rate limiter.
import { createClient } from '@redis/client';
import { withTimeout } from '@trellis/resilience';

const open = (url: string) =>
  createClient({
    url,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
    disableOfflineQueue: true,
  });

export type RedisClient = ReturnType<typeof open>;

export function createRedisClient(url: string, onError: (error: unknown) => void): RedisClient {
  const client = open(url);
  client.on('error', onError);
  return client;
}

/**
 * Drops a client's connection at once (never throws); commands in flight fail. The same
 * client can `connect()` again (cheaper than building a new one: no new client, no scripts).
 */
export function dropConnection(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}

/** Closes a client politely within a second, else drops its connection (never throws). */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  const drop = () => dropConnection(client);
  if (client.isOpen) await withTimeout(client.close(), 1000, 'close').catch(drop);
  else drop();
}
