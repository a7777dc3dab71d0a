// Faults under load, each against its own graph of real processes: a subgraph SIGKILLed and
// restarted, a (private) Postgres stopped and started, a (private) Redis stopped and
// started, the orders job worker SIGKILLed mid-delivery. Pass criteria are asserted and
// the figures written to docs/reliability.md.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startEmbeddedPostgres } from '@trellis/db/embedded';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { startPrivateRedis } from '@trellis/testing/redis-server';
import { startWebhookSink } from '@trellis/testing/webhook-sink';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { tokenFor } from '../src/harness.ts';
import { type GraphProcess, isAlive, type ProcessGraph, startProcessGraph } from './graph.ts';
import { describeSample, type Operation, runLoad, type Sample } from './load.ts';
import { mixedOperations, placeOrderOperation, storefront } from './operations.ts';
import { ms, recordResult } from './report.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Bounded: a cleanup that hangs must not hold the suite.
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.race([cleanup().catch(() => {}), sleep(20_000)]);
});

async function sharedDatabase(prefix: string): Promise<TestDatabase> {
  const database = await createTestDatabase(inject('databaseUrl'), prefix);
  cleanups.push(() => database.drop());
  return database;
}

async function graphOn(databaseUrl: string, gatewayEnv: Record<string, string> = {}): Promise<ProcessGraph> {
  const graph = await startProcessGraph({ databaseUrl, gatewayEnv: { RESPONSE_CACHE: 'off', ...gatewayEnv } });
  cleanups.push(() => graph.stop());
  return graph;
}

const allAlive = (graph: ProcessGraph) => [graph.gateway, ...Object.values(graph.subgraphs)].every(isAlive);
const pids = (graph: ProcessGraph) =>
  [graph.gateway, ...Object.values(graph.subgraphs)].map((s) => s.process.child.pid).join(',');
/** A sample the mix expects: 200, JSON, and data or exactly the errors its operation asks for. */
function good(s: Sample, expected: Record<string, string[]>): boolean {
  const want = expected[s.operation] ?? [];
  return !s.failure && s.status === 200 && s.codes.join(',') === want.join(',') && (want.length > 0 || s.hasData);
}
/** When the last bad sample after `from` (ms into the run) ended, relative to `from`. */
function recoveredAfter(samples: Sample[], from: number, expected: Record<string, string[]>): number {
  const bad = samples.filter((s) => s.startedAt + s.latencyMs >= from && !good(s, expected));
  return Math.max(0, ...bad.map((s) => s.startedAt + s.latencyMs - from));
}

/** Products data from products, stock from inventory: partial when inventory is down. */
const PARTIAL: Operation = {
  name: 'Partial',
  weight: 2,
  request: (n) => ({
    body: {
      query: `query Partial($id: ID!) { catalogue: products(first: 3) { edges { node { id name } } } stock: product(id: $id) { id name inStock } }`,
      variables: { id: String((n % 100) + 1) },
    },
  }),
};

describe('faults under load', () => {
  it('a subgraph SIGKILLed: no gateway crash, partial results with SUBGRAPH_UNAVAILABLE, recovery within 5 s of restart', async () => {
    const graph = await graphOn((await sharedDatabase('trellis_fault_kill')).url);
    const { operations, expected } = await mixedOperations();
    const origin = performance.now();
    const marks: Record<string, number> = {};
    const fault = (async () => {
      await sleep(6000);
      marks.killed = performance.now() - origin;
      await graph.kill('inventory');
      await sleep(6000);
      marks.restarting = performance.now() - origin;
      await graph.restart('inventory');
      marks.ready = performance.now() - origin;
    })();
    const samples = await runLoad({
      url: graph.url,
      operations: [...operations, PARTIAL],
      concurrency: 6,
      ratePerSecond: 40,
      durationMs: 40_000,
      keepBodies: true,
    });
    await fault;
    const { killed = 0, restarting = 0, ready = 0 } = marks;

    const outage = samples.filter((s) => s.startedAt > killed + 100 && s.startedAt + s.latencyMs < restarting);
    const transport = samples.filter((s) => s.failure || s.status !== 200);
    const outageCodes = new Set(outage.flatMap((s) => s.codes));
    const partial = outage.filter((s) => s.operation === 'Partial');
    const partialOk = partial.filter((s) => {
      const body = s.body as { data?: { catalogue?: { edges: unknown[] }; stock: unknown } };
      return (
        body.data?.catalogue?.edges.length === 3 && body.data.stock === null && s.codes[0] === 'SUBGRAPH_UNAVAILABLE'
      );
    });
    const untouched = outage.filter((s) => ['UserReviews', 'Me', 'ForgedCursor'].includes(s.operation));
    const recovery = recoveredAfter(samples, ready, expected);
    const passed =
      allAlive(graph) &&
      transport.length === 0 &&
      [...outageCodes].every((c) => ['SUBGRAPH_UNAVAILABLE', 'BAD_USER_INPUT'].includes(c)) &&
      partial.length > 0 &&
      partialOk.length === partial.length &&
      untouched.every((s) => good(s, expected)) &&
      recovery <= 5000;
    await recordResult({
      id: 'fault-subgraph-kill',
      title: 'Fault: a subgraph (inventory) SIGKILLed under load, then restarted',
      command: 'pnpm test:faults',
      passed,
      lines: [
        `- Load: 40 req/s offered by 6 clients for 40 s (the soak mix plus a partial-result query); killed at ${ms(killed)}, restarted at ${ms(restarting)}, ready at ${ms(ready)} (process start ${ms(ready - restarting)})`,
        `- Requests: ${samples.length}; during the outage ${outage.length}, error codes seen: ${[...outageCodes].join(', ') || 'none'}`,
        `- Transport errors or non-200 responses: ${transport.length} (criterion: 0); gateway alive: ${isAlive(graph.gateway)}`,
        `- Partial results (products data kept, inventory's field null with SUBGRAPH_UNAVAILABLE): ${partialOk.length}/${partial.length}`,
        `- Operations not touching inventory during the outage, all good: ${untouched.filter((s) => good(s, expected)).length}/${untouched.length}`,
        `- Recovery (last bad response after the restarted subgraph reported ready): ${ms(recovery)} (criterion: ≤ 5000 ms)`,
      ],
    });

    expect(isAlive(graph.gateway)).toBe(true);
    expect(transport.map(describeSample).slice(0, 5)).toEqual([]);
    expect(outage.length).toBeGreaterThan(20);
    expect([...outageCodes].filter((c) => !['SUBGRAPH_UNAVAILABLE', 'BAD_USER_INPUT'].includes(c))).toEqual([]);
    expect(outageCodes.has('SUBGRAPH_UNAVAILABLE')).toBe(true);
    expect(partial.length).toBeGreaterThan(0);
    expect(partialOk.length).toBe(partial.length);
    expect(untouched.filter((s) => !good(s, expected)).map(describeSample)).toEqual([]);
    expect(recovery).toBeLessThanOrEqual(5000);
  });

  it('Postgres restarted under load: services recover without restart, no acknowledged write lost', async () => {
    // A private embedded Postgres: the shared one is never stopped.
    const dataDir = await mkdtemp(join(tmpdir(), 'trellis-fault-pg-'));
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', persistent: true });
    cleanups.push(async () => {
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    const graph = await graphOn(pg.url);
    const before = pids(graph);
    const { operations, expected } = await mixedOperations();
    // Every (user, product) pair once: a user reviews a product at most once.
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => tokenFor(i + 1)));
    const write: Operation = {
      name: 'AddReview',
      weight: 4,
      request: (n) => ({
        body: {
          query: storefront('AddReview'),
          variables: {
            input: { productId: String((Math.floor(n / 50) % 100) + 1), rating: (n % 5) + 1, body: `fault-write-${n}` },
          },
        },
        headers: { authorization: `Bearer ${tokens[n % 50]}` },
      }),
    };
    const origin = performance.now();
    const marks: Record<string, number> = {};
    const fault = (async () => {
      await sleep(6000);
      marks.stopping = performance.now() - origin;
      await pg.stop();
      marks.stopped = performance.now() - origin;
      await sleep(5000);
      pg = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', persistent: true });
      marks.started = performance.now() - origin;
    })();
    const samples = await runLoad({
      url: graph.url,
      operations: [...operations, write],
      concurrency: 6,
      ratePerSecond: 40,
      durationMs: 40_000,
      keepBodies: true,
    });
    await fault;
    const { started = 0 } = marks;

    const acknowledged = samples
      .filter((s) => s.operation === 'AddReview' && s.status === 200)
      .map((s) => (s.body as { data?: { addReview?: { review: { id: string } | null } } }).data?.addReview?.review?.id)
      .filter((id): id is string => typeof id === 'string');
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const stored = await sql<{ id: string }[]>`select id::text from reviews.reviews where body like 'fault-write-%'`;
    await sql.end();
    const storedIds = new Set(stored.map((r) => r.id));
    const lost = acknowledged.filter((id) => !storedIds.has(id));
    const transport = samples.filter((s) => s.failure || !s.codes.every((c) => c !== 'NONE'));
    const writeExpected = { ...expected, AddReview: [] };
    const recovery = recoveredAfter(samples, started, writeExpected);
    const passed =
      allAlive(graph) && pids(graph) === before && lost.length === 0 && transport.length === 0 && recovery <= 10_000;
    await recordResult({
      id: 'fault-postgres-restart',
      title: 'Fault: Postgres stopped and started under load (private embedded server)',
      command: 'pnpm test:faults',
      passed,
      lines: [
        `- Load: 40 req/s offered by 6 clients for 40 s (the soak mix plus addReview writes); Postgres stopped at ${ms(marks.stopping ?? 0)}, down at ${ms(marks.stopped ?? 0)}, up again at ${ms(started)}`,
        `- Writes acknowledged: ${acknowledged.length}; found in Postgres afterwards: ${acknowledged.length - lost.length}; lost: ${lost.length} (criterion: 0)`,
        `- Services restarted: none (same process ids: ${pids(graph) === before}); all alive: ${allAlive(graph)}`,
        `- Responses that were not JSON or had an untyped error: ${transport.length} (criterion: 0)`,
        `- Recovery (last bad response after Postgres was up): ${ms(recovery)} (bound: 10 s)`,
      ],
    });

    expect(allAlive(graph)).toBe(true);
    expect(pids(graph)).toBe(before);
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(lost).toEqual([]);
    expect(transport.map(describeSample).slice(0, 5)).toEqual([]);
    expect(recovery).toBeLessThanOrEqual(10_000);
  });

  it('Redis stopped under load with the response cache on: no errors; caching resumes after its restart', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const graph = await graphOn((await sharedDatabase('trellis_fault_redis')).url, {
      RESPONSE_CACHE: 'on',
      REDIS_URL: redis.url,
    });
    const { operations, expected } = await mixedOperations();
    // A public read over five ids: repeats within a second, so hits show quickly.
    const cached: Operation = {
      name: 'ProductName',
      weight: 4,
      request: (n) => ({
        body: {
          query: 'query ProductName($id: ID!) { product(id: $id) { id name price } }',
          variables: { id: String((n % 5) + 1) },
        },
      }),
    };
    const origin = performance.now();
    const marks: Record<string, number> = {};
    const fault = (async () => {
      await sleep(8000);
      marks.stopped = performance.now() - origin;
      await redis.stop();
      await sleep(8000);
      await redis.start();
      marks.started = performance.now() - origin;
    })();
    const samples = await runLoad({
      url: graph.url,
      operations: [...operations, cached],
      concurrency: 6,
      ratePerSecond: 40,
      durationMs: 32_000,
    });
    await fault;
    const { stopped = 0, started = 0 } = marks;
    const bad = samples.filter((s) => !good(s, expected));
    const hits = (from: number, to: number) =>
      samples.filter((s) => s.startedAt >= from && s.startedAt < to && s.cache === 'HIT').length;
    const hitsBefore = hits(0, stopped);
    const hitsDuring = hits(stopped + 500, started);
    const hitsAfter = hits(started + 3000, Number.POSITIVE_INFINITY);
    // Rate limits live in the same Redis: during the outage they let requests through uncounted.
    const metrics = await (await fetch(graph.url.replace(/\/graphql$/, '/metrics'))).text();
    const failedOpen = metrics
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('trellis_gateway_rate_limit_decisions_total{') && line.includes('result="failed_open"'),
      )
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const passed = bad.length === 0 && allAlive(graph) && hitsBefore > 0 && hitsAfter > 0 && failedOpen > 0;
    await recordResult({
      id: 'fault-redis-stop',
      title: 'Fault: Redis (response cache store) killed under load, then restarted (private redis-server)',
      command: 'pnpm test:faults',
      passed,
      lines: [
        `- Load: 40 req/s offered by 6 clients for 32 s (the soak mix plus a cacheable read over five ids), RESPONSE_CACHE=on with REDIS_URL; Redis killed at ${ms(stopped)}, up again at ${ms(started)}`,
        `- Requests: ${samples.length}; errors or unexpected responses: ${bad.length} (criterion: 0)`,
        `- Cache hits: ${hitsBefore} before the outage, ${hitsDuring} during (a miss is the expected degradation), ${hitsAfter} from 3 s after the restart (criterion: > 0)`,
        `- Rate-limit decisions that failed open (Redis unreachable: let through uncounted, never refused): ${failedOpen} (criterion: > 0, with no error above)`,
      ],
    });

    expect(bad.map(describeSample).slice(0, 5)).toEqual([]);
    expect(allAlive(graph)).toBe(true);
    expect(hitsBefore).toBeGreaterThan(0);
    expect(hitsAfter).toBeGreaterThan(0);
    expect(failedOpen).toBeGreaterThan(0);
  });
  it('the orders worker SIGKILLed under load: no job lost, each confirmation takes effect once', async () => {
    const secret = randomBytes(24).toString('base64url');
    const sink = await startWebhookSink({ secret });
    cleanups.push(() => sink.close());
    // Slow answers keep deliveries in flight, so the kill lands mid-delivery.
    sink.setMode({ kind: 'slow', delayMs: 150 });
    // Operator settings, shortened so the test is bounded: a delivery whose worker died is
    // retried after 5 s (NOTIFY_EXPIRE_S; default 120) by a supervisor that looks every second.
    const jobEnv = {
      NOTIFY_EXPIRE_S: '5',
      JOBS_MAINTENANCE_INTERVAL_S: '1',
      JOBS_POLL_INTERVAL_MS: '100',
      NOTIFY_RETRY_BASE_MS: '200',
      NOTIFY_RETRY_MAX_MS: '2000',
    };
    const database = await sharedDatabase('trellis_fault_worker');
    const graph = await startProcessGraph({
      databaseUrl: database.url,
      gatewayEnv: { RESPONSE_CACHE: 'off' },
      serviceEnv: jobEnv,
      webhook: { url: sink.url, secret },
    });
    cleanups.push(() => graph.stop());
    const first = await graph.startWorker('orders');
    const { operations, expected } = await mixedOperations();
    const origin = performance.now();
    const marks: Record<string, number> = {};
    let second: GraphProcess | undefined;
    const fault = (async () => {
      await sleep(8000);
      // Mid-delivery: the receiver holds the request it just got while the worker dies.
      await sink.nextRequest();
      marks.killed = performance.now() - origin;
      first.process.killAll();
      await first.process.exited;
      await sleep(3000);
      second = await graph.startWorker('orders');
      marks.restarted = performance.now() - origin;
    })();
    const samples = await runLoad({
      url: graph.url,
      operations: [...operations, await placeOrderOperation(6)],
      concurrency: 6,
      ratePerSecond: 30,
      durationMs: 20_000,
      keepBodies: true,
    });
    await fault;

    const placed = samples
      .filter((s) => s.operation === 'PlaceOrder' && s.status === 200)
      .map((s) => (s.body as { data?: { placeOrder?: { order: { id: string } | null } } }).data?.placeOrder?.order?.id)
      .filter((id): id is string => typeof id === 'string');
    const bad = samples.filter((s) => !good(s, expected));
    const key = (id: string) => `order-placed:${id}`;
    const deadline = Date.now() + 90_000;
    const delivered = () => new Set(sink.deliveries().map((d) => d.idempotencyKey));
    while (Date.now() < deadline && !placed.every((id) => delivered().has(key(id)))) await sleep(250);
    const keys = sink.deliveries().map((d) => d.idempotencyKey);
    const missing = placed.filter((id) => !delivered().has(key(id)));
    const recordedTwice = keys.filter((k, i) => keys.indexOf(k) !== i);
    const unknown = keys.filter((k) => !placed.some((id) => key(id) === k));
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const [effects] = await sql<{ total: number; distinct: number }[]>`
      select count(*)::int as total, count(distinct message_id)::int as distinct from orders.processed_messages`;
    await sql.end();
    const passed =
      bad.length === 0 &&
      missing.length === 0 &&
      recordedTwice.length === 0 &&
      unknown.length === 0 &&
      sink.duplicates() >= 1 &&
      effects?.total === effects?.distinct &&
      isAlive(graph.gateway);
    await recordResult({
      id: 'fault-worker-kill',
      title: 'Fault: the orders worker SIGKILLed under load, then started again',
      command: 'pnpm test:faults',
      passed,
      lines: [
        `- Load: 30 req/s offered by 6 clients for 20 s (the soak mix with more PlaceOrder); webhook receiver answering after 150 ms; worker SIGKILLed while a delivery was in flight at ${ms(marks.killed ?? 0)}, a new one ready at ${ms(marks.restarted ?? 0)}; NOTIFY_EXPIRE_S=5, JOBS_MAINTENANCE_INTERVAL_S=1`,
        `- Orders placed (acknowledged): ${placed.length}; confirmations recorded by the receiver: ${keys.length}; missing: ${missing.length} (criterion: 0)`,
        `- Confirmations recorded twice: ${recordedTwice.length} (criterion: 0); deliveries repeated after the kill and dropped by Idempotency-Key: ${sink.duplicates()}; processed-message records ${effects?.total} for ${effects?.distinct} messages`,
        `- Unexpected responses under load: ${bad.length} (criterion: 0)`,
      ],
    });

    expect(bad.map(describeSample).slice(0, 5)).toEqual([]);
    expect(placed.length).toBeGreaterThan(30);
    expect(missing).toEqual([]);
    expect(recordedTwice).toEqual([]);
    expect(unknown).toEqual([]);
    expect(effects?.total).toBe(effects?.distinct);
    // The kill landed mid-delivery: that job ran again and the receiver dropped the repeat.
    expect(sink.duplicates()).toBeGreaterThanOrEqual(1);
    expect(second && isAlive(second)).toBe(true);
  });
});
