// Connection pools (undici): one keep-alive pool per origin, shared by every data source that
// routes there, destroyed when the last one is closed.
import { Pool } from 'undici';

const pools = new Map<string, { pool: Pool; users: number }>();

export function acquirePool(origin: string): Pool {
  let entry = pools.get(origin);
  if (!entry) {
    entry = {
      pool: new Pool(origin, {
        // Keep-alive is the point: a subgraph fetch should never pay for a TCP handshake.
        // undici follows the server's Keep-Alive hint (ours: 65 s) up to keepAliveMaxTimeout.
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        // Bounded so a slow subgraph cannot make the gateway open thousands of sockets; the
        // excess waits in the pool's queue, inside its deadline.
        connections: 256,
        pipelining: 1,
      }),
      users: 0,
    };
    pools.set(origin, entry);
  }
  entry.users++;
  return entry.pool;
}

export async function releasePool(origin: string): Promise<void> {
  const entry = pools.get(origin);
  if (!entry) return;
  entry.users--;
  if (entry.users > 0) return;
  pools.delete(origin);
  await entry.pool.destroy();
}
