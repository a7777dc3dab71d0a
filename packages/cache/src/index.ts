// The response cache's storage: Apollo's KeyValueCache on Redis (keyv + @keyv/redis) when a
// REDIS_URL is given, in memory otherwise — behind a guard that makes an outage a miss.
// Every call is bounded by a timeout (keyv's defaults wait forever on a dead Redis); from the
// first failure on, one probe call goes out at a time (the others skip the store at once), and
// after consecutive failures a circuit opens so requests stop paying even the timeout; it
// half-opens after `openMs` for one trial call (the others keep skipping it) and closes when
// the trial succeeds. Commands are never queued while disconnected (a dead Redis fails at
// once), and the one client is reconnected, never rebuilt, after the circuit opens.
// Entries carry tags (the entities a response holds): a tag index (Redis sets, or a map in
// memory) lets `purge(tags)` drop every entry holding one of them, and leaves a durable
// marker that refuses late writes of answers older than the purge (./scripts.ts).

import { AsyncLocalStorage } from 'node:async_hooks';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import KeyvRedis from '@keyv/redis';
import { type Circuit, type CircuitOutcome, createCircuit, withTimeout } from '@trellis/resilience';
import { batchedCounter, registeredMetric } from '@trellis/telemetry/metrics';
import Keyv from 'keyv';
import { Gauge, type Registry } from 'prom-client';
import { MARKER_TTL_MS, PURGE_SCRIPT, PUT_SCRIPT } from './scripts.ts';

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
  /**
   * A circuit shared with the other users of the same Redis (the rate limiter); when given,
   * `timeoutMs`, `failuresToOpen` and `openMs` are its own. @default a circuit of its own
   */
  circuit?: Circuit;
  /** Prefix of every Redis key (entries and tag sets), so tests and deployments can isolate. @default 'trellis' */
  namespace?: string;
  registry?: Registry;
  onError?: (error: unknown) => void;
}

export interface CacheStore {
  cache: KeyValueCache<string>;
  /** Where entries live: `redis` or `memory`. */
  kind: 'redis' | 'memory';
  circuitOpen(): boolean;
  /** The last call failed, or the circuit is open or half-open: a caller skips further lookups. */
  degraded(): boolean;
  /**
   * Writes entry `key` holding `tags` for `ttl` seconds, unless one of the tags was
   * invalidated at or after `notBefore` (ms since the epoch, Redis's clock: when its answer
   * began): an answer computed before a write is never stored after the write's
   * invalidation (./scripts.ts). Resolves true when written, false when refused so, undefined
   * when an outage skipped it (like any call).
   */
  put(
    key: string,
    value: string,
    options: { ttl: number; tags: readonly string[]; notBefore: number },
  ): Promise<boolean | undefined>;
  /**
   * Deletes every entry tagged with one of `tags` and marks the tags invalidated; resolves to
   * the number of entries deleted, or undefined when it could not be applied (an outage).
   */
  purge(tags: readonly string[]): Promise<number | undefined>;
  /**
   * The start of an entry (at least its first `length` bytes, or all of it), or undefined when
   * there is none: reads a header stored in front of a large value without moving the value
   * (Redis GETRANGE; in memory, the entry itself).
   */
  peek(key: string, length: number): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Keyv's stored form of an entry: `\u0001<expires ms or empty>\n<value>`. Keyv's default is
 * JSON of `{ value, expires }`, which escapes every quote of a cached response (a body of
 * tens of kilobytes) on each write and unescapes it on each hit; values here are strings.
 */
/** A store call, as the calls metric names it. */
type StoreOp = 'get' | 'peek' | 'set' | 'delete' | 'put' | 'purge';

const RAW = '\u0001';
const serialize = ({ value, expires }: { value?: unknown; expires?: number | null | undefined }): string =>
  `${RAW}${expires ?? ''}\n${String(value)}`;
const deserialize = <Value>(data: string) => {
  if (!data.startsWith(RAW)) return JSON.parse(data) as { value?: Value; expires?: number };
  const newline = data.indexOf('\n');
  const expires = data.slice(1, newline);
  return { value: data.slice(newline + 1) as Value, ...(expires ? { expires: Number(expires) } : {}) };
};

/** The keyv call in flight in this async context, and the error keyv emitted for it. */
const failedCall = new AsyncLocalStorage<{ error?: unknown }>();

/** Runs `call`; rejects with the error keyv emitted during it, if any (keyv 6 resolves empty). */
async function throwingStoreErrors<T>(call: () => Promise<T>): Promise<T> {
  const slot: { error?: unknown } = {};
  const value = await failedCall.run(slot, call);
  if (slot.error !== undefined) throw slot.error;
  return value;
}

export function createCacheStore(options: CacheStoreOptions): CacheStore {
  // The Redis circuit (@trellis/resilience's fail-fast circuit): shared with the other users
  // of the same Redis when given, so what one learns the others skip at once.
  const circuit =
    options.circuit ??
    createCircuit({
      timeoutMs: options.timeoutMs ?? 50,
      failuresToOpen: options.failuresToOpen ?? 3,
      openMs: options.openMs ?? 5000,
      what: 'cache call',
    });
  const namespace = options.namespace ?? 'trellis';
  const registry = options.registry;
  const calls =
    registry &&
    batchedCounter(registry, {
      name: 'trellis_cache_calls_total',
      help: 'Response cache store calls by operation and outcome',
      labelNames: ['op', 'outcome'],
    });
  // A counting child per op and outcome, made on first use (a call per cached hit).
  const callCounters: Partial<Record<StoreOp, Partial<Record<CircuitOutcome, () => void>>>> = {};
  const countCall = (op: StoreOp, outcome: CircuitOutcome) => {
    if (!calls) return;
    let byOutcome = callCounters[op];
    if (!byOutcome) {
      byOutcome = {};
      callCounters[op] = byOutcome;
    }
    let count = byOutcome[outcome];
    if (!count) {
      count = calls.child({ op, outcome });
      byOutcome[outcome] = count;
    }
    count();
  };
  if (registry) {
    registeredMetric(
      registry,
      'trellis_cache_circuit_open',
      () =>
        new Gauge({
          name: 'trellis_cache_circuit_open',
          help: '1 while the cache circuit is open (cache skipped)',
          registers: [registry],
          // Read at scrape time: the circuit closes by time as well as by calls.
          collect() {
            this.set(circuit.isOpen() ? 1 : 0);
          },
        }),
    );
  }

  let inner: KeyValueCache<string>;
  let redis: KeyvRedis<string> | undefined;
  let closed = false;
  /** The connection of `redis` settled (open, or failed and reported): calls start after it. */
  let connected: Promise<void> = Promise.resolve();
  const memoryTags = new MemoryTagIndex();
  let memory: InMemoryLRUCache<string> | undefined;
  const connect = (url: string) => {
    // No offline queue: while disconnected a command fails at once instead of waiting in the
    // client for a reconnect (each waited the whole timeout: the outage p99).
    redis = new KeyvRedis<string>(
      { url, disableOfflineQueue: true },
      { throwOnConnectError: false, throwOnErrors: true, connectionTimeout: 500 },
    );
    // Keyv passes its namespace to the store, which prefixes keys `<namespace>::<key>` (the
    // scripts and peek below address entries the same way).
    const keyv = new Keyv<string>({
      store: redis,
      namespace,
      serialization: { stringify: serialize, parse: deserialize },
    });
    // keyv 6 never rejects: a failed store call resolves empty and emits 'error'. The error is
    // handed to the call it happened in (its async context), so it still fails and counts
    // toward the circuit. Without a listener an 'error' event would crash the process.
    keyv.on('error', (error) => {
      const call = failedCall.getStore();
      if (call && call.error === undefined) call.error = error ?? new Error('cache store error');
      else if (!call) options.onError?.(error);
    });
    redis.on('error', (error) => options.onError?.(error));
    // Batched reads would run one caller's context for every key of the batch: one call, one read.
    // KeyvAdapter's typings clash with keyv's under this module setting; one narrow cast.
    inner = new KeyvAdapter(keyv as never, { disableBatchReads: true }) as unknown as KeyValueCache<string>;
    // Connect now, once: calls wait for this connection instead of each asking the store to
    // connect (@keyv/redis 6 with node-redis 6: a second connect() while the first is under
    // way tears the connection down, so concurrent first calls all failed "offline").
    connected = redis.getClient().then(
      () => {},
      () => {},
    );
  };
  if (options.redisUrl) connect(options.redisUrl);
  else {
    memory = new InMemoryLRUCache<string>({ maxSize: 64 * 1024 * 1024 });
    inner = memory;
  }

  /**
   * A connection that swallowed commands (a partition, a hung server) may never answer
   * again: when the circuit opens, drop it, and connect the same client again for the trial
   * (building a new client, adapter and keyv on the request path cost tens of milliseconds
   * of CPU per outage).
   */
  const reconnect = () => {
    const store = redis;
    if (!store) return;
    void withTimeout(store.disconnect(true), 1000, 'disconnect').catch(() => {});
    // Calls are skipped while the circuit is open: connect halfway to the trial, so the trial
    // finds a connection that had time to come up (one opened inside its bound would not).
    setTimeout(() => {
      if (redis === store && !closed)
        connected = store.getClient().then(
          () => {},
          () => {},
        );
    }, circuit.openMs / 2).unref();
  };
  circuit.onOpen(reconnect);

  function guarded<T>(op: StoreOp, call: () => Promise<T>, fallback: T): Promise<T> {
    if (memory) {
      // In-process: nothing to time out, trip or fail.
      countCall(op, 'ok');
      return call();
    }
    return callRedis(op, call, fallback);
  }

  async function callRedis<T>(op: StoreOp, call: () => Promise<T>, fallback: T): Promise<T> {
    const result = await circuit.call(() => connected.then(() => throwingStoreErrors(call)));
    countCall(op, result.outcome);
    if (result.outcome === 'ok') return result.value;
    if (result.outcome !== 'skipped') options.onError?.(result.error);
    return fallback;
  }

  const cache: KeyValueCache<string> = {
    get: (key) => guarded('get', () => inner.get(key), undefined),
    set: (key, value, setOptions?: KeyValueCacheSetOptions) =>
      guarded('set', () => inner.set(key, value, setOptions), undefined),
    delete: (key) => guarded('delete', () => Promise.resolve(inner.delete(key)).then(Boolean), false),
  };
  const peek = (key: string, length: number): Promise<string | undefined> => {
    const store = redis;
    if (!store) return cache.get(key);
    return guarded(
      'peek',
      async () => {
        const client = await rawClient(store);
        const raw = await client.sendCommand([
          'GETRANGE',
          store.createKeyPrefix(key, namespace),
          '0',
          String(length + 32),
        ]);
        if (typeof raw !== 'string' || raw === '') return undefined;
        // Entries in another framing (keyv's JSON) are read whole.
        return raw.startsWith(RAW) ? (deserialize<string>(raw).value ?? undefined) : inner.get(key);
      },
      undefined,
    );
  };
  const put = async (
    key: string,
    value: string,
    { ttl, tags, notBefore }: { ttl: number; tags: readonly string[]; notBefore: number },
  ): Promise<boolean | undefined> => {
    if (!(ttl > 0)) return false;
    const store = redis;
    if (!store) {
      if (tags.length) memoryTags.add(key, tags, ttl);
      await memory?.set(key, value, { ttl });
      return true;
    }
    return guarded(
      'put',
      async () => {
        const client = await rawClient(store);
        const expires = Date.now() + ttl * 1000;
        const written = await client.sendCommand([
          'EVAL',
          PUT_SCRIPT,
          '0',
          namespace,
          key,
          serialize({ value, expires }),
          String(ttl * 1000),
          String(Math.floor(notBefore)),
          String(ttl),
          ...tags,
        ]);
        return Number(written) === 1;
      },
      undefined,
    );
  };
  const purge = async (tags: readonly string[]): Promise<number | undefined> => {
    if (tags.length === 0) return 0;
    const store = redis;
    if (!store) {
      const keys = memoryTags.take(tags);
      let deleted = 0;
      for (const key of keys) {
        if ((await memory?.get(key)) === undefined) continue;
        await memory?.delete(key);
        deleted++;
      }
      return deleted;
    }
    return guarded(
      'purge',
      async () => {
        const client = await rawClient(store);
        return Number(
          await client.sendCommand(['EVAL', PURGE_SCRIPT, '0', namespace, String(MARKER_TTL_MS), '', '', ...tags]),
        );
      },
      undefined,
    );
  };
  return {
    cache,
    kind: options.redisUrl ? 'redis' : 'memory',
    circuitOpen: circuit.isOpen,
    degraded: circuit.degraded,
    put,
    purge,
    peek,
    async close() {
      closed = true;
      if (redis) await withTimeout(redis.disconnect(), 1000, 'disconnect').catch(() => {});
    },
  };
}

/**
 * The few raw commands the tag index sends. node-redis's full client typings are expensive
 * to instantiate (the type checker blows up on chained multi() calls): one narrow view.
 */
interface RawRedis {
  multi(): { addCommand(args: string[]): unknown; exec(): Promise<unknown[]> };
  sendCommand(args: string[]): Promise<unknown>;
}
const rawClient = async (store: KeyvRedis<string>) => (await store.getClient()) as unknown as RawRedis;

/** Tag → entry keys with expiry, for the in-memory store (one process: no sharing needed). */
class MemoryTagIndex {
  private readonly sets = new Map<string, Map<string, number>>();
  private added = 0;

  add(key: string, tags: readonly string[], ttlSeconds: number): void {
    const expires = Date.now() + ttlSeconds * 1000;
    for (const tag of tags) {
      let set = this.sets.get(tag);
      if (!set) {
        set = new Map();
        this.sets.set(tag, set);
      }
      set.set(key, expires);
    }
    // Sweep expired members now and then so the index stays as small as the cache.
    if (++this.added % 1000 === 0) this.sweep();
  }

  take(tags: readonly string[]): Set<string> {
    const now = Date.now();
    const keys = new Set<string>();
    for (const tag of tags) {
      const set = this.sets.get(tag);
      if (!set) continue;
      this.sets.delete(tag);
      for (const [key, expires] of set) if (expires > now) keys.add(key);
    }
    return keys;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [tag, set] of this.sets) {
      for (const [key, expires] of set) if (expires <= now) set.delete(key);
      if (set.size === 0) this.sets.delete(tag);
    }
  }
}
