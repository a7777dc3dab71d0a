// Rate limits through the real gateway (rate-limit.ts, rate-limit-http.ts): what clients see
// (IETF RateLimit fields on every response, 429 RATE_LIMITED with Retry-After, refused
// before any subgraph fetch), budgets by key (address, verified user, mutations), cached hits
// at the admission point, X-Forwarded-For only from trusted proxies, a repeated cost bomb, a
// flood of distinct addresses (bounded keys), and Redis: one budget for two gateways, and a
// Redis that stops or hangs mid-flood lets requests through within a bounded delay.
import { type RunningGateway, startGateway } from '@trellis/gateway';
import { createLogger } from '@trellis/telemetry';
import { graphql } from '@trellis/testing';
import { type PrivateRedis, startPrivateRedis } from '@trellis/testing/redis-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { DEFAULT_RATE_LIMIT } from '../src/rate-limit.ts';

const BUDGET = { anonPoints: 3000, points: 6000, mutationPoints: 12, windowS: 60 };
const MAX_COST = 1000;

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'), {
    // development: every response reports its estimated cost (extensions.cost).
    nodeEnv: 'development',
    limits: { maxCost: MAX_COST },
    responseCache: { enabled: true, timeoutMs: 50 },
    rateLimit: { ...BUDGET, trustedProxies: ['loopback'], maxKeys: 100 },
  });
});
afterAll(async () => {
  await graph?.stop();
});

async function counter(gateway: RunningGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await gateway.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}
const fetches = (gateway: RunningGateway) => counter(gateway, 'trellis_gateway_subgraph_fetches_total');

/** The `RateLimit` field as { policy: { r, t } }. */
function remaining(headers: Headers): Record<string, { r: number; t: number }> {
  const out: Record<string, { r: number; t: number }> = {};
  for (const item of (headers.get('ratelimit') ?? '').split(',')) {
    const match = /"(\w+)";r=(\d+);t=(\d+)/.exec(item.trim());
    if (match) out[match[1] as string] = { r: Number(match[2]), t: Number(match[3]) };
  }
  return out;
}

const PAGE = 'query Page($n: Int!) { products(first: $n) { edges { node { id name } } } }';
/** Just under MAX_COST: 1 + 90 × (edges 1 + node 1 + reviews (1 + 4 × (edges 1 + node 1))) = 991. */
const BOMB = '{ products(first: 90) { edges { node { id reviews(first: 4) { edges { node { id rating } } } } } } }';

const as = (address: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...extra });

describe('rate limits: what clients see', () => {
  it('every response carries the policy and what is left; a request spends 1 + its estimated cost', async () => {
    const first = await graphql(graph.url, PAGE, { n: 5 }, as('203.0.113.1', { 'cache-control': 'no-cache' }));
    expect(first.status).toBe(200);
    const cost = (first.body as { extensions: { cost: { estimated: number } } }).extensions.cost.estimated;
    expect(cost).toBeGreaterThan(1);
    expect(first.headers.get('ratelimit-policy')).toBe(
      `"cost";q=${BUDGET.anonPoints};w=60, "mutations";q=${BUDGET.mutationPoints};w=60`,
    );
    expect(remaining(first.headers).cost?.r).toBe(BUDGET.anonPoints - 1 - cost);
    expect(remaining(first.headers).cost?.t).toBeGreaterThan(0);
    expect(remaining(first.headers).cost?.t).toBeLessThanOrEqual(60);
    const second = await graphql(graph.url, PAGE, { n: 5 }, as('203.0.113.1', { 'cache-control': 'no-cache' }));
    expect(remaining(second.headers).cost?.r).toBe(BUDGET.anonPoints - 2 * (1 + cost));
    // Errors carry them too (a validation error spends only the admission point).
    const bad = await graphql(graph.url, '{ nope }', {}, as('203.0.113.1'));
    expect(bad.status).toBe(400);
    expect(remaining(bad.headers).cost?.r).toBe(BUDGET.anonPoints - 2 * (1 + cost) - 1);
  });

  it('over budget: 429 RATE_LIMITED with Retry-After, refused before any subgraph fetch (estimate and admission)', async () => {
    const client = as('203.0.113.2', { 'cache-control': 'no-cache' });
    // Spend down to a remainder smaller than the bomb's cost.
    let last = await graphql(graph.url, BOMB, {}, client);
    const cost = (last.body as { extensions: { cost: { estimated: number } } }).extensions.cost.estimated;
    expect(cost).toBeGreaterThan(MAX_COST * 0.9);
    expect(cost).toBeLessThanOrEqual(MAX_COST);
    while (remaining(last.headers).cost!.r > cost) last = await graphql(graph.url, BOMB, {}, client);
    expect(last.status).toBe(200);

    // Refused once its cost is known (admitted first), before the query planner.
    const before = await fetches(graph.gateway);
    const byEstimate = await graphql(graph.url, BOMB, {}, client);
    expect(byEstimate.status).toBe(429);
    expect(byEstimate.body.data).toBeUndefined();
    expect(byEstimate.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(byEstimate.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(remaining(byEstimate.headers).cost?.r).toBe(0);
    // Refused at admission: over budget already, even a free operation.
    const byAdmission = await graphql(graph.url, '{ __typename }', {}, client);
    expect(byAdmission.status).toBe(429);
    expect(byAdmission.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: expect.any(Number),
    });
    expect(byAdmission.headers.get('retry-after')).toBe(String(byAdmission.body.errors?.[0]?.extensions?.retryAfter));
    expect(byAdmission.headers.get('ratelimit-policy')).toContain(`"cost";q=${BUDGET.anonPoints}`);
    expect(await fetches(graph.gateway)).toBe(before);
    expect(
      await counter(graph.gateway, 'trellis_gateway_rate_limit_decisions_total', {
        key_kind: 'address',
        result: 'limited',
      }),
    ).toBeGreaterThanOrEqual(2);
    // Both refusals count as requests with their code (the admission one never reached Apollo).
    expect(
      await counter(graph.gateway, 'trellis_graphql_requests_total', { code: 'RATE_LIMITED' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('a cached hit spends the admission point only; a client over budget gets no hit', async () => {
    const client = as('203.0.113.3');
    const miss = await graphql(graph.url, PAGE, { n: 2 }, client);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const hit = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...client },
      body: JSON.stringify({ query: PAGE, variables: { n: 2 } }),
    });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(remaining(hit.headers).cost?.r).toBe(remaining(miss.headers).cost!.r - 1);
    expect(hit.headers.get('ratelimit-policy')).toBe(miss.headers.get('ratelimit-policy'));
    // Another client's hit reports its own budget, not the stored one.
    const other = await graphql(graph.url, PAGE, { n: 2 }, as('203.0.113.4'));
    expect(other.headers.get('x-cache')).toBe('HIT');
    expect(remaining(other.headers).cost?.r).toBe(BUDGET.anonPoints - 1);
    // Spent out, the same cached query is refused.
    while ((await graphql(graph.url, BOMB, {}, as('203.0.113.4', { 'cache-control': 'no-cache' }))).status === 200) {}
    expect((await graphql(graph.url, PAGE, { n: 2 }, as('203.0.113.4'))).status).toBe(429);
  });
});

describe('rate limits: keys and budgets', () => {
  it('a signed-in user has a budget of its own, whatever its address', async () => {
    const address = '203.0.113.5';
    while ((await graphql(graph.url, BOMB, {}, as(address, { 'cache-control': 'no-cache' }))).status === 200) {}
    const token = await tokenFor(9001);
    const signedIn = await graphql(graph.url, '{ me { id } }', {}, as(address, { authorization: `Bearer ${token}` }));
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('ratelimit-policy')).toContain(`"cost";q=${BUDGET.points}`);
    expect(remaining(signedIn.headers).cost!.r).toBeGreaterThan(BUDGET.points - 10);
    // A bad token counts against its address (refused here: that address is spent).
    const badToken = await graphql(graph.url, '{ me { id } }', {}, as(address, { authorization: 'Bearer nope' }));
    expect(badToken.status).toBe(429);
  });

  it('mutations spend a budget of their own; reads go on when it is spent', async () => {
    const headers = { authorization: `Bearer ${await tokenFor(9002)}`, 'x-forwarded-for': '203.0.113.6' };
    const mutation = 'mutation { addReview(input: { productId: "1", rating: 9, body: "" }) { userErrors { code } } }';
    const first = await graphql(graph.url, mutation, {}, headers);
    expect(first.status).toBe(200);
    const cost = (first.body as { extensions: { cost: { estimated: number } } }).extensions.cost.estimated;
    expect(remaining(first.headers).mutations?.r).toBe(BUDGET.mutationPoints - Math.max(1, cost));
    let last = first;
    for (let i = 0; i < BUDGET.mutationPoints && last.status === 200; i++)
      last = await graphql(graph.url, mutation, {}, headers);
    expect(last.status).toBe(429);
    expect(last.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(last.body.errors?.[0]?.message).toMatch(/Mutation rate limit/);
    expect(remaining(last.headers).mutations?.r).toBe(0);
    const read = await graphql(graph.url, '{ me { id } }', {}, headers);
    expect(read.status).toBe(200);
    expect(read.body.errors).toBeUndefined();
  });

  it('a cost bomb just under the operation limit, repeated, is limited by points', async () => {
    const client = as('203.0.113.7', { 'cache-control': 'no-cache' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await graphql(graph.url, BOMB, {}, client)).status);
    // 3000 points buy two bombs (each ~1 + 999); the rest are refused.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
  });

  it('X-Forwarded-For from an untrusted peer is ignored: one budget whatever the header says', async () => {
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        rateLimit: { ...DEFAULT_RATE_LIMIT, ...BUDGET },
      }),
    );
    try {
      const url = `${gateway.url}/graphql`;
      const a = await graphql(url, '{ __typename }', {}, as('198.51.100.1'));
      const b = await graphql(url, '{ __typename }', {}, as('198.51.100.2'));
      expect(remaining(b.headers).cost!.r).toBe(remaining(a.headers).cost!.r - 1);
      // Behind a trusted proxy, a hop the client wrote in front of the real one changes nothing.
      const c = await graphql(graph.url, '{ __typename }', {}, as('1.1.1.1, 203.0.113.8'));
      const d = await graphql(graph.url, '{ __typename }', {}, as('2.2.2.2, 203.0.113.8'));
      expect(remaining(d.headers).cost!.r).toBe(remaining(c.headers).cost!.r - 1);
    } finally {
      await gateway.stop();
    }
  });

  it('RATE_LIMIT_BY_CLIENT: listed client names get a budget of their own per address; other names do not', async () => {
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        rateLimit: {
          ...DEFAULT_RATE_LIMIT,
          ...BUDGET,
          trustedProxies: ['loopback'],
          byClient: ['storefront', 'admin'],
        },
      }),
    );
    try {
      const url = `${gateway.url}/graphql`;
      const send = (client?: string) =>
        graphql(url, '{ __typename }', {}, as('203.0.113.9', client ? { 'apollographql-client-name': client } : {}));
      const spent = async (client?: string) => BUDGET.anonPoints - remaining((await send(client)).headers).cost!.r;
      expect(await spent()).toBe(1);
      expect(await spent('storefront')).toBe(1);
      expect(await spent('admin')).toBe(1);
      // Unlisted or invalid names count for the address itself.
      expect(await spent('made-up')).toBe(2);
      expect(await spent('bad\tname')).toBe(3);
      expect(await spent('storefront')).toBe(2);
      expect(
        await counter(gateway, 'trellis_gateway_rate_limit_decisions_total', { key_kind: 'client', result: 'allowed' }),
      ).toBe(3);
    } finally {
      await gateway.stop();
    }
  });

  it('a flood of distinct addresses is served and keeps the tracked keys bounded', async () => {
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => graphql(graph.url, '{ __typename }', {}, as(`100.64.${batch}.${i}`))),
      );
      for (const { status } of results) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 500 });
    expect(await counter(graph.gateway, 'trellis_gateway_rate_limit_tracked_keys')).toBeLessThanOrEqual(100);
  });
});

describe('rate limits on Redis', () => {
  let redis: PrivateRedis;
  const gateways: RunningGateway[] = [];
  /** A gateway logger that keeps its warning lines (pino JSON) in `lines`. */
  const capture = (lines: { msg: string }[]) =>
    createLogger({
      service: 'gateway',
      level: 'warn',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
  const start = async (namespace: string, logger = capture([])) => {
    const gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        responseCache: { enabled: true, timeoutMs: 50, redisUrl: redis.url, namespace },
        rateLimit: { ...DEFAULT_RATE_LIMIT, ...BUDGET },
      }),
      logger,
    );
    gateways.push(gateway);
    return gateway;
  };
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
  });

  it('two gateways on one Redis enforce one budget', async () => {
    const namespace = `rl-shared-${Date.now()}`;
    const [a, b] = [await start(namespace), await start(namespace)];
    const client = { 'cache-control': 'no-cache' };
    const first = await graphql(`${a.url}/graphql`, BOMB, {}, client);
    expect(first.status).toBe(200);
    const second = await graphql(`${b.url}/graphql`, BOMB, {}, client);
    expect(remaining(second.headers).cost!.r).toBeLessThan(remaining(first.headers).cost!.r);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const gateway = i % 2 ? a : b;
      statuses.push((await graphql(`${gateway.url}/graphql`, BOMB, {}, client)).status);
    }
    // 3000 points in all: two bombs were admitted above, at most one more; both gateways refuse the rest.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });

  it('Redis hung: the rate limiter and the response cache share one circuit — what the decisions learn, the cache skips at once, and once open no request touches Redis until the trial', async () => {
    const gateway = await start(`rl-circuit-${Date.now()}`);
    const url = `${gateway.url}/graphql`;
    // Healthy first: a decision and a cache entry on Redis (written after the response: let it land).
    expect((await graphql(url, PAGE, { n: 2 })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cacheCalls = (outcome: string) => counter(gateway, 'trellis_cache_calls_total', { outcome });
    const decisions = (outcome: string) =>
      counter(gateway, 'trellis_gateway_rate_limit_store_calls_total', { outcome });
    const cacheBefore = (await cacheCalls('ok')) + (await cacheCalls('timeout')) + (await cacheCalls('error'));
    redis.pause(); // hung: connected, never answering
    try {
      // `no-store`: the cache neither reads nor writes, so only the rate limiter's decisions go
      // to Redis. Their failures alone open the circuit the cache reads (one circuit, shared).
      let open = false;
      for (let i = 0; i < 30 && !open; i++) {
        const { status } = await graphql(url, PAGE, { n: 2 + (i % 3) }, { 'cache-control': 'no-store' });
        expect(status).toBe(200);
        open = (await decisions('skipped')) > 0;
      }
      expect(open).toBe(true);
      expect(await decisions('timeout')).toBeGreaterThanOrEqual(1);
      expect((await cacheCalls('ok')) + (await cacheCalls('timeout')) + (await cacheCalls('error'))).toBe(cacheBefore);
      // Open: a cacheable request waits on nothing — its decision and its cache calls are
      // skipped without a single further Redis call (a cache with a circuit of its own would
      // send its lookup and time out).
      const sent = async () => (await decisions('timeout')) + (await decisions('error')) + (await decisions('ok'));
      const [sentBefore, skippedBefore] = [await sent(), await cacheCalls('skipped')];
      for (let i = 0; i < 3; i++) expect((await graphql(url, PAGE, { n: 2 + i })).status).toBe(200);
      expect(await sent()).toBe(sentBefore);
      expect(await cacheCalls('skipped')).toBeGreaterThan(skippedBefore);
      expect((await cacheCalls('ok')) + (await cacheCalls('timeout')) + (await cacheCalls('error'))).toBe(cacheBefore);
    } finally {
      redis.resume();
    }
  });

  it('Redis stopping or hanging mid-flood: every request answered, none refused or failed, each within a bounded delay; limits resume after', async () => {
    const warnings: { msg: string }[] = [];
    const gateway = await start(`rl-outage-${Date.now()}`, capture(warnings));
    const url = `${gateway.url}/graphql`;
    const outcomes: { status: number; ms: number; errors: number }[] = [];
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        const started = performance.now();
        const results = await Promise.all(
          Array.from({ length: 5 }, () => graphql(url, PAGE, { n: 1 }, { 'cache-control': 'no-cache' })),
        );
        const ms = performance.now() - started;
        for (const r of results) outcomes.push({ status: r.status, ms, errors: r.body.errors?.length ?? 0 });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    redis.pause(); // hung: connected, never answering
    await new Promise((resolve) => setTimeout(resolve, 1000));
    redis.resume();
    await redis.stop(); // gone
    await new Promise((resolve) => setTimeout(resolve, 1000));
    flooding = false;
    await flood;
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((o) => o.status !== 200 || o.errors > 0)).toEqual([]);
    // Each batch of 5 was answered well within a second even while Redis hung (50 ms bound per decision).
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(1500);
    expect(
      await counter(gateway, 'trellis_gateway_rate_limit_decisions_total', { result: 'failed_open' }),
    ).toBeGreaterThan(0);
    // One log line says so — not one per request (at most one per 10 s).
    const said = warnings.filter((w) => w.msg.startsWith('rate-limit store unavailable'));
    expect(said.length).toBeGreaterThanOrEqual(1);
    expect(said.length).toBeLessThanOrEqual(2);

    // Back: budgets count again (the restarted Redis lost the old counts) and refuse when spent.
    await redis.start();
    let status = 200;
    const deadline = Date.now() + 15_000;
    while (status === 200 && Date.now() < deadline)
      status = (await graphql(url, BOMB, {}, { 'cache-control': 'no-cache' })).status;
    expect(status).toBe(429);
  });
});
