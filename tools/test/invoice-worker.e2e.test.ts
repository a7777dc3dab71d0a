// The document and enrichment workers as real processes against real Postgres: an orders
// worker SIGKILLed in the middle of rendering an invoice leaves the job to run again, and
// the invoice is rendered and recorded once; the reviews worker serves health and its
// queue metrics.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, type Database } from '@trellis/db';
import { createTestDatabase, type TestDatabase, until } from '@trellis/testing';
import { startWebhookSink, type WebhookSink } from '@trellis/testing/webhook-sink';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderLines, orders } from '../../subgraphs/orders/src/db/schema.ts';
import { enqueueOrderPlaced } from '../../subgraphs/orders/src/jobs/enqueue.ts';
import { subgraph as ordersSubgraph } from '../../subgraphs/orders/src/service.ts';
import { subgraph as reviewsSubgraph } from '../../subgraphs/reviews/src/service.ts';
import { type ServiceProcess, spawnService } from '../src/process.ts';
import { prepareSubgraph } from '../src/subgraphs.ts';
import { ROOT } from '../src/workspace.ts';

const SECRET = 'test-webhook-secret';
let database: TestDatabase;
let db: Database<typeof ordersSubgraph.schema>;
let sink: WebhookSink;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_invoice_worker');
  await prepareSubgraph(ordersSubgraph as never, database.url);
  await prepareSubgraph(reviewsSubgraph as never, database.url);
  db = createDatabase({ url: database.url, schema: ordersSubgraph.schema, applicationName: 'test', max: 4 });
  sink = await startWebhookSink({ secret: SECRET });
});
afterAll(async () => {
  for (const child of processes) child.killAll();
  await sink?.close();
  await db?.close();
  await database?.drop();
});

function startWorker(domain: 'orders' | 'reviews'): ServiceProcess {
  const child = spawnService(
    join(ROOT, 'subgraphs', domain, 'src', 'worker.ts'),
    [],
    {
      DATABASE_URL: database.url,
      PORT: '0',
      NODE_ENV: 'test',
      NOTIFY_WEBHOOK_URL: sink.url,
      NOTIFY_WEBHOOK_SECRET: SECRET,
      INVOICE_EXPIRE_S: '2',
      INVOICE_RETRY_BASE_MS: '50',
      INVOICE_RETRY_MAX_MS: '400',
      JOBS_POLL_INTERVAL_MS: '50',
      JOBS_MAINTENANCE_INTERVAL_S: '1',
    },
    ROOT,
  );
  processes.push(child);
  return child;
}

/** The worker's health/metrics port, from its 'worker ready' log line. */
async function readyPort(worker: ServiceProcess): Promise<number> {
  const out = await until(
    () => worker.output(),
    (text) => /"port":\d+[^\n]*worker ready/.test(text),
  );
  return Number(/"port":(\d+)[^\n]*worker ready/.exec(out)![1]);
}

async function placeOrder(id?: number): Promise<number> {
  return db.db.transaction(async (tx) => {
    const [order] = await tx
      .insert(orders)
      .values({ ...(id ? { id } : {}), buyerId: 1, totalCents: 2500 })
      .returning();
    await tx
      .insert(orderLines)
      .values({ orderId: order!.id, lineNo: 1, productId: 2, quantity: 2, unitPriceCents: 1250 });
    await enqueueOrderPlaced(tx as never, order!.id);
    return order!.id;
  });
}

const invoiceJob = async (orderId: number) =>
  (
    await db.sql`select state::text from orders_jobs.job where name = 'invoice' and (data->>'orderId')::bigint = ${orderId}`
  ).map((r) => r.state as string);
const invoice = async (orderId: number) =>
  (await db.sql`select status::text, generated_at from orders.invoices where order_id = ${orderId}`)[0];

describe('document and enrichment workers', () => {
  it('SIGKILL mid-render: the invoice job runs again and the invoice is produced once', async () => {
    // The worker first: it installs the queues with this test's short expiry.
    const first = startWorker('orders');
    await readyPort(first);
    // Hold the job's processed-message key in an open transaction: the worker's run claims
    // it first thing, so it blocks there, mid-job, inside its own transaction.
    const [{ id }] =
      (await db.sql`select nextval(pg_get_serial_sequence('orders.orders', 'id'))::int as id`) as never as [
        { id: number },
      ];
    const lock = await db.sql.reserve();
    await lock`begin`;
    await lock`insert into orders.processed_messages (queue, message_id) values ('invoice', ${`invoice:${id}`})`;
    await placeOrder(id);
    await until(
      async () =>
        (
          await db.sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and application_name = 'trellis-orders-worker'`
        )[0]!.n,
      (n) => n >= 1,
    );
    expect(await invoiceJob(id)).toEqual(['active']);
    first.killAll(); // SIGKILL: its transaction (message claim included) dies with the connection
    await first.exited;
    await lock`rollback`;
    lock.release();
    expect(await invoice(id)).toMatchObject({ status: 'PENDING', generated_at: null });
    expect(await db.sql`select 1 from orders.processed_messages where message_id = ${`invoice:${id}`}`).toHaveLength(0);

    const second = startWorker('orders');
    await readyPort(second);
    // The orphaned job expires (INVOICE_EXPIRE_S), is retried, and this worker renders it.
    await until(
      () => invoiceJob(id),
      (states) => states[0] === 'completed',
      30_000,
    );
    const done = await invoice(id);
    expect(done!.status).toBe('READY');
    expect(await db.sql`select 1 from orders.processed_messages where message_id = ${`invoice:${id}`}`).toHaveLength(1);
    await sleep(300);
    expect(await invoice(id)).toEqual(done); // never rendered a second time
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('the reviews worker serves health and the enrich-review queue metrics, and drains on SIGTERM', async () => {
    const worker = startWorker('reviews');
    const port = await readyPort(worker);
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/trellis_jobs_queue_depth\{queue="enrich-review"[^}]*\} 0/);
    expect(metrics).toMatch(/trellis_jobs_dead_letter_depth\{queue="enrich-review"[^}]*\} 0/);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });
});
