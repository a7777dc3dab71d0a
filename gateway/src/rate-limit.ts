// Per-client rate limits by cost, in the spirit of GitHub's GraphQL API: each client key has
// a budget of points per fixed window, and a request spends its estimated cost (limits.ts).
// Two policies per key: `cost` (every request's admission point plus the cost of queries) and
// `mutations` (the cost of mutations, a budget of its own so reads cannot starve writes and
// a write flood is capped separately). Keys: the verified user id, else the client address
// (client-address.ts) — with RATE_LIMIT_BY_CLIENT, the address and a listed client name. Budgets live in Redis when REDIS_URL is set — rate-limiter-flexible's
// atomic Lua increment, so every replica on that Redis enforces one budget — or in memory.
//
// The store is never a reason to refuse a request: a Redis that is down or slow fails open
// within `timeoutMs` (the decision says so; a metric counts it and a log line, at most one
// per LOG_EVERY_MS, reports it), and once it has failed repeatedly a fail-fast circuit
// (@trellis/resilience, shared with the response cache's calls to the same Redis) lets
// decisions fail open at once, with one trial call per half-open interval. In memory, the number of tracked keys is bounded (LRU):
// a flood of distinct addresses evicts the least recently seen keys, whose counts restart.
import { closeRedisClient, createRedisClient, dropConnection, type RedisClient } from '@trellis/cache/redis';
import { type Circuit, type CircuitOutcome, createCircuit } from '@trellis/resilience';
import type { Logger } from '@trellis/telemetry';
import { batchedCounter, registeredMetric } from '@trellis/telemetry/metrics';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Registry } from 'prom-client';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** Who a budget belongs to: a verified user, a client address, or an address and a listed client name. */
export type KeyKind = 'user' | 'address' | 'client';
export type Policy = 'cost' | 'mutations';

export interface ClientKey {
  kind: KeyKind;
  id: string;
}

export interface RateLimitConfig {
  /** RATE_LIMIT=on|off. @default true */
  enabled: boolean;
  /** Points per window of a signed-in user (RATE_LIMIT_POINTS). */
  points: number;
  /** Points per window of an anonymous client address (RATE_LIMIT_ANON_POINTS). */
  anonPoints: number;
  /** Mutation points per window of any key (RATE_LIMIT_MUTATION_POINTS). */
  mutationPoints: number;
  /** Window length in seconds (RATE_LIMIT_WINDOW_S). */
  windowS: number;
  /** TRUSTED_PROXIES entries (client-address.ts). @default [] */
  trustedProxies: string[];
  /**
   * Keys tracked at most by the in-memory store (LRU; not used with Redis). About 600 bytes
   * each (measured: 100,000 keys held 56 MiB of heap): the default bounds it near 12 MiB of
   * the gateway's 320 MiB heap. @default 20_000
   */
  maxKeys: number;
  /**
   * Client names (`apollographql-client-name`, from CLIENT_NAMES) whose anonymous requests get
   * a budget of their own per address (RATE_LIMIT_BY_CLIENT=on): apps behind one shared
   * address no longer spend each other's budget. Names are the client's word, so only listed
   * ones split a budget (an address gets at most one per listed name). @default [] (off)
   */
  byClient: string[];
}

/** The defaults, and why (README "Rate limits"). */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = {
  enabled: true,
  points: 200_000_000,
  anonPoints: 200_000_000,
  mutationPoints: 1_000_000,
  windowS: 60,
  trustedProxies: [],
  maxKeys: 20_000,
  byClient: [],
};

export interface RateLimiterOptions extends Omit<RateLimitConfig, 'enabled' | 'trustedProxies' | 'byClient'> {
  /** Budgets in Redis (shared by replicas); in memory when absent. */
  redisUrl?: string | undefined;
  /** Prefix of the Redis keys (CACHE_NAMESPACE). @default 'trellis' */
  namespace?: string | undefined;
  /** Bound on one Redis decision; past it the request is let through. @default 50 */
  timeoutMs?: number;
  /**
   * The circuit of the Redis the budgets live in, shared with its other users (the response
   * cache); its own bound replaces `timeoutMs`. @default a circuit of its own
   */
  circuit?: Circuit;
  /** Where the metrics go. @default a registry of its own (nothing scrapes it: tools, benchmarks) */
  registry?: Registry;
  logger?: Logger;
}

/** The outcome of one spend, as the headers report it. */
export interface Decision {
  policy: Policy;
  allowed: boolean;
  /** The key's budget for the window. */
  quota: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetS: number;
  /** The store did not answer: allowed without counting. */
  failedOpen: boolean;
}

export interface RateLimiter {
  readonly store: 'redis' | 'memory';
  readonly windowS: number;
  quota(kind: KeyKind, policy: Policy): number;
  /** Spends `points` (an integer ≥ 1) from the key's `policy` budget. Never rejects. */
  spend(key: ClientKey, points: number, policy: Policy): Promise<Decision>;
  /**
   * Lets a spend through without asking the store (a failed-open decision, counted so): for a
   * request whose earlier decision already failed open — one store that failed it is not asked
   * again in the same request.
   */
  failOpen(key: ClientKey, policy: Policy): Decision;
  /** Keys currently tracked in memory (memory store; 0 with Redis). */
  trackedKeys(): number;
  close(): Promise<void>;
}

const LOG_EVERY_MS = 10_000;

type DecisionResult = 'allowed' | 'limited' | 'failed_open';
type Labels = Record<string, string>;

/** Spends from `limiter`; a refusal arrives as a rejected RateLimiterRes: an answer, not a store failure. */
async function consume(
  limiter: RateLimiterAbstract,
  key: string,
  points: number,
): Promise<{ allowed: boolean; res: RateLimiterRes }> {
  try {
    return { allowed: true, res: await limiter.consume(key, points) };
  } catch (error) {
    if (error instanceof RateLimiterRes) return { allowed: false, res: error };
    throw error;
  }
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { windowS, logger } = options;
  const registry = options.registry ?? new Registry();
  const timeoutMs = options.timeoutMs ?? 50;
  const namespace = options.namespace ?? 'trellis';
  const decisions = batchedCounter(registry, {
    name: 'trellis_gateway_rate_limit_decisions_total',
    help: 'Rate-limit decisions by policy (cost, mutations), key kind (user, address, client) and result (allowed, limited, failed_open)',
    labelNames: ['policy', 'key_kind', 'result'],
  });
  // One counting child per decision kind (a decision per request), every series exported from the start.
  const countDecision = {} as Record<Policy, Record<KeyKind, Record<DecisionResult, () => void>>>;
  for (const policy of ['cost', 'mutations'] as const) {
    countDecision[policy] = {} as Record<KeyKind, Record<DecisionResult, () => void>>;
    for (const kind of ['user', 'address', 'client'] as const) {
      countDecision[policy][kind] = {} as Record<DecisionResult, () => void>;
      for (const result of ['allowed', 'limited', 'failed_open'] as const) {
        const labels = { policy, key_kind: kind, result };
        countDecision[policy][kind][result] = decisions.child(labels);
        decisions.counter.inc(labels, 0);
      }
    }
  }

  // One client for the limiter's life, connected at once in the background (node-redis
  // reconnects a dropped connection by itself); a decision waits for the connection within its
  // bound, else fails open. Dropped when the circuit opens, the same client connects again:
  // building a client and its limiters anew cost tens of milliseconds of CPU per outage.
  const redis: RedisClient | undefined = options.redisUrl
    ? createRedisClient(options.redisUrl, (error) => storeFailed(error))
    : undefined;
  let connected: Promise<void> | undefined;
  let closed = false;
  const connect = () => {
    const client = redis as RedisClient;
    // Open already (node-redis reconnecting by itself): commands fail at once until it is back.
    connected = client.isOpen ? Promise.resolve() : client.connect().then(() => {});
    connected.catch((error: unknown) => storeFailed(error));
    return connected;
  };
  const circuit = options.redisUrl
    ? (options.circuit ?? createCircuit({ timeoutMs, what: 'rate-limit decision' }))
    : undefined;
  const storeCalls = registeredMetric(
    registry,
    'trellis_gateway_rate_limit_store_calls_total',
    () =>
      new Counter({
        name: 'trellis_gateway_rate_limit_store_calls_total',
        help: 'Rate-limit decisions sent to Redis by outcome (ok, timeout, error, skipped: the Redis circuit was open)',
        labelNames: ['outcome'],
        registers: [registry],
      }),
  );
  const outcomeLabels = {} as Record<CircuitOutcome, Labels>;
  for (const outcome of ['ok', 'timeout', 'error', 'skipped'] as const) outcomeLabels[outcome] = { outcome };
  if (options.redisUrl) for (const labels of Object.values(outcomeLabels)) storeCalls.inc(labels, 0);

  const quotas: Record<string, number> = {
    'cost:user': options.points,
    'cost:address': options.anonPoints,
    'cost:client': options.anonPoints,
    'mutations:user': options.mutationPoints,
    'mutations:address': options.mutationPoints,
    'mutations:client': options.mutationPoints,
  };
  const build = (name: string, points: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({
          storeClient: redis,
          useRedisPackage: true,
          // Disconnected: fail at once instead of queueing behind reconnects.
          rejectIfRedisNotReady: true,
          points,
          duration: windowS,
          keyPrefix: `${namespace}:rl:${name}`,
          // A key over its budget is answered from memory until its window resets: a flood
          // from one client costs no Redis round trip per request.
          inMemoryBlockOnConsumed: points + 1,
          inMemoryBlockDuration: 0,
        })
      : new RateLimiterMemory({ points, duration: windowS, keyPrefix: name });
  const limiters = new Map(Object.entries(quotas).map(([name, points]) => [name, build(name, points)]));
  // Per policy and key kind, looked up without building the `policy:kind` name per request.
  const budgets = {} as Record<Policy, Record<KeyKind, { quota: number; limiter: RateLimiterAbstract }>>;
  for (const policy of ['cost', 'mutations'] as const) {
    budgets[policy] = {} as Record<KeyKind, { quota: number; limiter: RateLimiterAbstract }>;
    for (const kind of ['user', 'address', 'client'] as const) {
      const name = `${policy}:${kind}`;
      budgets[policy][kind] = { quota: quotas[name] as number, limiter: limiters.get(name) as RateLimiterAbstract };
    }
  }
  if (redis) void connect();
  // A connection that swallowed commands (a hung Redis, a partition) answers nothing after
  // them, ever, and one opened meanwhile may hang in its handshake (node-redis bounds only the
  // TCP connect): when the circuit opens, drop the connection (the client stays), and connect
  // it again halfway to the trial, so the trial finds a connection that had time to come up
  // (not one opened inside its bound).
  circuit?.onOpen(() => {
    if (!redis) return;
    connected = undefined;
    dropConnection(redis);
    setTimeout(() => {
      if (!connected && !closed) void connect();
    }, circuit.openMs / 2).unref();
  });
  // Memory only: every key in a limiter is in this LRU; evicting it drops the key's counts.
  const tracked = redis
    ? undefined
    : new LRUCache<string, true>({
        max: options.maxKeys,
        dispose: (_value, key, reason) => {
          if (reason !== 'evict') return;
          const kind = key.slice(0, key.indexOf(':'));
          for (const policy of ['cost', 'mutations']) void limiters.get(`${policy}:${kind}`)?.delete(key);
        },
      });

  registeredMetric(
    registry,
    'trellis_gateway_rate_limit_tracked_keys',
    () =>
      new Gauge({
        name: 'trellis_gateway_rate_limit_tracked_keys',
        help: 'Client keys the in-memory rate limiter tracks (bounded; 0 with Redis)',
        registers: [registry],
        collect() {
          this.set(tracked?.size ?? 0);
        },
      }),
  );

  let failures = 0;
  let lastLogAt = Number.NEGATIVE_INFINITY;
  function storeFailed(error: unknown) {
    failures++;
    const now = performance.now();
    if (now - lastLogAt < LOG_EVERY_MS) return;
    lastLogAt = now;
    logger?.warn(
      { err: String(error), failures },
      'rate-limit store unavailable; requests are let through unlimited until it answers',
    );
    failures = 0;
  }

  const failOpen = (key: ClientKey, policy: Policy, error?: unknown): Decision => {
    if (error !== undefined) storeFailed(error);
    countDecision[policy][key.kind].failed_open();
    const { quota } = budgets[policy][key.kind];
    return { policy, allowed: true, quota, remaining: quota, resetS: windowS, failedOpen: true };
  };

  return {
    store: redis ? 'redis' : 'memory',
    windowS,
    quota: (kind, policy) => budgets[policy][kind].quota,
    async spend(key, points, policy) {
      const { quota, limiter } = budgets[policy][key.kind];
      const storeKey = `${key.kind}:${key.id}`;
      if (tracked && !tracked.get(storeKey)) tracked.set(storeKey, true);
      let answer: { allowed: boolean; res: RateLimiterRes };
      if (circuit) {
        const result = await circuit.call(async () => {
          await (connected ?? connect());
          return consume(limiter, storeKey, points);
        });
        storeCalls.inc(outcomeLabels[result.outcome]);
        if (result.outcome !== 'ok') return failOpen(key, policy, result.error);
        answer = result.value;
      } else {
        try {
          answer = await consume(limiter, storeKey, points);
        } catch (error) {
          return failOpen(key, policy, error);
        }
      }
      const { allowed, res } = answer;
      countDecision[policy][key.kind][allowed ? 'allowed' : 'limited']();
      return {
        policy,
        allowed,
        quota,
        remaining: res.remainingPoints,
        resetS: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
        failedOpen: false,
      };
    },
    failOpen: (key, policy) => failOpen(key, policy),
    trackedKeys: () => tracked?.size ?? 0,
    async close() {
      closed = true;
      if (redis) await closeRedisClient(redis);
    },
  };
}
