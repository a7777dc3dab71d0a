// The orders worker as a real process against real Postgres and a real webhook receiver:
// a committed order's confirmation is delivered (signed, with its Idempotency-Key); a
// rolled-back one never is; SIGKILL mid-delivery → the job runs again and the receiver
// records it once; webhook down → retries, the breaker opens, dead letter, redrive
// (pnpm jobs:redrive) → delivered once; JOBS_POOL_MAX caps pg-boss's connections; SIGTERM
// drains the in-flight delivery and exits 0.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, type Database } from '@trellis/db';
import { createTestDatabase, type TestDatabase, until } from '@trellis/testing';
import { startWebhookSink, type WebhookSink } from '@trellis/testing/webhook-sink';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderLines, orders } from '../../subgraphs/orders/src/db/schema.ts';
import { enqueueOrderPlaced } from '../../subgraphs/orders/src/jobs/enqueue.ts';
import { subgraph } from '../../subgraphs/orders/src/service.ts';
import { runCommand, type ServiceProcess, spawnService } from '../src/process.ts';
import { prepareSubgraph } from '../src/subgraphs.ts';
import { ROOT } from '../src/workspace.ts';

const SECRET = 'test-webhook-secret';
let database: TestDatabase;
let db: Database<typeof subgraph.schema>;
let sink: WebhookSink;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_orders_worker');
  await prepareSubgraph(subgraph as never, database.url);
  db = createDatabase({ url: database.url, schema: subgraph.schema, applicationName: 'test', max: 4 });
  sink = await startWebhookSink({ secret: SECRET });
});
afterEach(() => {
  sink.setMode({ kind: 'ok' });
});
afterAll(async () => {
  for (const worker of workers) worker.killAll();
  await sink?.close();
  await db?.close();
  await database?.drop();
});

function startWorker(env: Record<string, string> = {}): ServiceProcess {
  const worker = spawnService(
    join(ROOT, 'subgraphs', 'orders', 'src', 'worker.ts'),
    [],
    {
      DATABASE_URL: database.url,
      PORT: '0',
      NODE_ENV: 'test',
      NOTIFY_WEBHOOK_URL: sink.url,
      NOTIFY_WEBHOOK_SECRET: SECRET,
      NOTIFY_RETRY_BASE_MS: '50',
      NOTIFY_RETRY_MAX_MS: '400',
      NOTIFY_ATTEMPTS: '3',
      NOTIFY_EXPIRE_S: '2',
      NOTIFY_TIMEOUT_MS: '5000',
      JOBS_POLL_INTERVAL_MS: '50',
      JOBS_MAINTENANCE_INTERVAL_S: '1',
      JOBS_DRAIN_TIMEOUT_MS: '8000',
      ...env,
    },
    ROOT,
  );
  workers.push(worker);
  return worker;
}

const ready = (worker: ServiceProcess) =>
  until(
    () => worker.output(),
    (out) => out.includes('worker ready'),
  );

/** An order written the way placeOrder writes it: order, line and job in one transaction. */
async function placeOrder(options: { rollback?: boolean } = {}): Promise<number> {
  let id = 0;
  const write = db.db.transaction(async (tx) => {
    const [order] = await tx.insert(orders).values({ buyerId: 1, totalCents: 1250 }).returning();
    id = order!.id;
    await tx.insert(orderLines).values({ orderId: id, lineNo: 1, productId: 1, quantity: 1, unitPriceCents: 1250 });
    await enqueueOrderPlaced(tx, id);
    if (options.rollback) throw new Error('roll back');
  });
  if (options.rollback) await expect(write).rejects.toThrow('roll back');
  else await write;
  return id;
}

const jobState = async (orderId: number) =>
  (
    await db.sql`select state::text from orders_jobs.job where name = 'order-confirmation' and data->>'orderId' = ${String(orderId)}`
  ).map((r) => r.state as string);
const deliveriesOf = (orderId: number) =>
  sink.deliveries().filter((d) => d.idempotencyKey === `order-placed:${orderId}`);

describe('orders worker', () => {
  it('delivers a committed order once, signed; a rolled-back order leaves no job', async () => {
    const rolledBack = await placeOrder({ rollback: true });
    expect(await jobState(rolledBack)).toEqual([]);
    const worker = startWorker();
    await ready(worker);
    const id = await placeOrder();
    await until(
      () => deliveriesOf(id).length,
      (n) => n === 1,
    );
    const [delivery] = deliveriesOf(id);
    expect(delivery!.body).toMatchObject({ event: 'order.placed', orderId: String(id), total: 12.5 });
    await until(
      () => jobState(id),
      (states) => states[0] === 'completed',
    );
    expect(deliveriesOf(rolledBack)).toEqual([]);
    const [record] =
      await db.sql`select count(*)::int as n from orders.processed_messages where message_id = ${`order-placed:${id}`}`;
    expect(record!.n).toBe(1);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('SIGKILL mid-delivery: the job runs again and the receiver records it once', async () => {
    const first = startWorker();
    await ready(first);
    sink.setMode({ kind: 'slow', delayMs: 1500 });
    const arrived = sink.nextRequest();
    const id = await placeOrder();
    await arrived;
    first.killAll(); // SIGKILL: no drain, no failure recorded
    await first.exited;
    expect(await jobState(id)).toEqual(['active']);
    // The receiver still completes the request it got: the effect happened once.
    await until(
      () => deliveriesOf(id).length,
      (n) => n === 1,
    );
    sink.setMode({ kind: 'ok' });
    const duplicatesBefore = sink.duplicates();
    const second = startWorker();
    await ready(second);
    // pg-boss's supervisor expires the orphaned job (NOTIFY_EXPIRE_S), it is retried and the
    // repeat carries the same Idempotency-Key: the receiver drops it.
    await until(
      () => jobState(id),
      (states) => states[0] === 'completed',
      30_000,
    );
    expect(deliveriesOf(id)).toHaveLength(1);
    expect(sink.duplicates()).toBe(duplicatesBefore + 1);
    const [record] =
      await db.sql`select count(*)::int as n from orders.processed_messages where message_id = ${`order-placed:${id}`}`;
    expect(record!.n).toBe(1);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('webhook down: retries with backoff, the breaker opens, dead letter; redrive delivers once', async () => {
    sink.setMode({ kind: 'fail', status: 503 });
    const worker = startWorker({ NOTIFY_BREAKER_VOLUME: '2', NOTIFY_BREAKER_RESET_MS: '60000' });
    await ready(worker);
    const requestsBefore = sink.requests();
    const ids = [await placeOrder(), await placeOrder(), await placeOrder()];
    for (const id of ids)
      await until(
        () => jobState(id),
        (states) => states[0] === 'failed',
      );
    // 3 orders × 3 attempts = 9 failures, but the open breaker spared the endpoint most of them.
    const requests = sink.requests() - requestsBefore;
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThan(9);
    expect(worker.output()).toContain('webhook circuit breaker open');
    for (const id of ids) expect(deliveriesOf(id)).toEqual([]);

    const status = await runCommand(process.execPath, ['--import', 'tsx', 'tools/src/jobs.ts', 'status'], {
      cwd: ROOT,
      env: { DATABASE_URL: database.url },
    });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/orders\s+order-confirmation\s+0\s+0\s+[\d.]+\s+3\s+3\s+\d+/);

    worker.child.kill('SIGTERM');
    await worker.exited;
    sink.setMode({ kind: 'ok' });
    const redriven = await runCommand(
      process.execPath,
      ['--import', 'tsx', 'tools/src/jobs.ts', 'redrive', 'orders', 'order-confirmation'],
      { cwd: ROOT, env: { DATABASE_URL: database.url } },
    );
    expect(redriven.stdout).toContain('moved 3 dead letter(s)');
    const healed = startWorker();
    await ready(healed);
    for (const id of ids)
      await until(
        () => deliveriesOf(id).length,
        (n) => n === 1,
      );
    // Let a while pass: never a second record.
    await sleep(500);
    for (const id of ids) expect(deliveriesOf(id)).toHaveLength(1);
    healed.child.kill('SIGTERM');
    await healed.exited;
  });

  it("JOBS_POOL_MAX caps pg-boss's own pool while the worker works through a burst of orders", async () => {
    // One connection: every pg-boss statement (two queues' fetches, completions, supervision)
    // takes turns on it; deliveries run on the handlers' own pool (DB_POOL_MAX).
    const worker = startWorker({ JOBS_POOL_MAX: '1' });
    await ready(worker);
    sink.setMode({ kind: 'slow', delayMs: 100 });
    const ids = await Promise.all(Array.from({ length: 24 }, () => placeOrder()));
    let peak = 0;
    await until(
      async () => {
        const [row] = await db.sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name = 'trellis-orders-jobs'`;
        peak = Math.max(peak, row!.n);
        return ids.filter((id) => deliveriesOf(id).length === 1).length;
      },
      (delivered) => delivered === ids.length,
    );
    expect(peak).toBe(1);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('SIGTERM drains: the in-flight delivery completes, then the worker exits 0', async () => {
    const worker = startWorker();
    await ready(worker);
    sink.setMode({ kind: 'slow', delayMs: 1500 });
    const arrived = sink.nextRequest();
    const id = await placeOrder();
    await arrived;
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThan(1000); // it waited for the delivery
    expect(await jobState(id)).toEqual(['completed']);
    expect(deliveriesOf(id)).toHaveLength(1);
    expect(worker.output()).toMatch(/"abandoned":0/);
  });
});
