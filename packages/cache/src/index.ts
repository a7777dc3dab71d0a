// The response cache's storage: Apollo's KeyValueCache on Redis (keyv + @keyv/redis) when a
// REDIS_URL is given, in memory otherwise — behind a guard that makes an outage a miss.
// Every call is bounded by a timeout (keyv's defaults wait forever on a dead Redis), and after
// consecutive failures a circuit opens so requests stop paying even the timeout; it half-opens
// after `openMs` and closes on the next success.

import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { Counter, Gauge, type Registry } from 'prom-client';

export type { KeyValueCache };

export interface CacheStoreOptions {
  /** redis:// URL; in-memory LRU when absent. */
  redisUrl?: string | undefined;
  /** Bound on every cache call. @default 50 */
  timeoutMs?: number;
  /** Consecutive failures that open the circuit. @default 3 */
  failuresToOpen?: number;
  /** How long the circuit stays open before one trial call. @default 5000 */
  openMs?: number;
  registry?: Registry;
  onError?: (error: unknown) => void;
}

export interface CacheStore {
  cache: KeyValueCache<string>;
  /** Where entries live: `redis` or `memory`. */
  kind: 'redis' | 'memory';
  circuitOpen(): boolean;
  close(): Promise<void>;
}

class CacheTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new CacheTimeout(`cache call exceeded ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function metric<T>(registry: Registry | undefined, name: string, make: () => T): T | undefined {
  if (!registry) return undefined;
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createCacheStore(options: CacheStoreOptions): CacheStore {
  const timeoutMs = options.timeoutMs ?? 50;
  const failuresToOpen = options.failuresToOpen ?? 3;
  const openMs = options.openMs ?? 5000;
  const registry = options.registry;
  const calls = metric(
    registry,
    'trellis_cache_calls_total',
    () =>
      new Counter({
        name: 'trellis_cache_calls_total',
        help: 'Response cache store calls by operation and outcome',
        labelNames: ['op', 'outcome'],
        registers: registry ? [registry] : [],
      }),
  );
  const circuit = metric(
    registry,
    'trellis_cache_circuit_open',
    () =>
      new Gauge({
        name: 'trellis_cache_circuit_open',
        help: '1 while the cache circuit is open (cache skipped)',
        registers: registry ? [registry] : [],
      }),
  );

  let inner: KeyValueCache<string>;
  let redis: KeyvRedis<string> | undefined;
  const connect = (url: string) => {
    redis = new KeyvRedis<string>(url, { throwOnConnectError: false, throwOnErrors: true, connectionTimeout: 500 });
    const keyv = new Keyv<string>({ store: redis, namespace: 'trellis', useKeyPrefix: false });
    // Without listeners an 'error' event would crash the process.
    keyv.on('error', (error) => options.onError?.(error));
    redis.on('error', (error) => options.onError?.(error));
    // KeyvAdapter's typings clash with keyv's under this module setting; one narrow cast.
    inner = new KeyvAdapter(keyv as never) as unknown as KeyValueCache<string>;
  };
  if (options.redisUrl) connect(options.redisUrl);
  else inner = new InMemoryLRUCache<string>({ maxSize: 64 * 1024 * 1024 });

  /**
   * A connection that swallowed commands (a partition, a hung server) may never answer
   * again: when the circuit opens, drop it and connect afresh for the trial call.
   */
  const reconnect = () => {
    if (!options.redisUrl || !redis) return;
    const old = redis;
    void withTimeout(old.disconnect(true), 1000).catch(() => {});
    connect(options.redisUrl);
  };

  let failures = 0;
  let openUntil = 0;
  const isOpen = () => openUntil > Date.now();
  circuit?.set(0);

  async function guarded<T>(op: 'get' | 'set' | 'delete', call: () => Promise<T>, fallback: T): Promise<T> {
    if (isOpen()) {
      calls?.inc({ op, outcome: 'skipped' });
      return fallback;
    }
    try {
      const value = await withTimeout(call(), timeoutMs);
      failures = 0;
      circuit?.set(0);
      calls?.inc({ op, outcome: 'ok' });
      return value;
    } catch (error) {
      failures++;
      calls?.inc({ op, outcome: error instanceof CacheTimeout ? 'timeout' : 'error' });
      if (failures >= failuresToOpen && !isOpen()) {
        openUntil = Date.now() + openMs;
        circuit?.set(1);
        reconnect();
      }
      options.onError?.(error);
      return fallback;
    }
  }

  const cache: KeyValueCache<string> = {
    get: (key) => guarded('get', () => inner.get(key), undefined),
    set: (key, value, setOptions?: KeyValueCacheSetOptions) =>
      guarded('set', () => inner.set(key, value, setOptions), undefined),
    delete: (key) => guarded('delete', () => Promise.resolve(inner.delete(key)).then(Boolean), false),
  };
  return {
    cache,
    kind: options.redisUrl ? 'redis' : 'memory',
    circuitOpen: isOpen,
    async close() {
      if (redis) await withTimeout(redis.disconnect(), 1000).catch(() => {});
    },
  };
}
