// Invoices against real Postgres: placeOrder's transaction writes a PENDING invoice and its
// job (or neither), the handler renders once however often it runs, Order.invoice is the
// buyer's only, and the signed download works while forged or expired links are refused.
import { randomUUID } from 'node:crypto';
import { JobPayloadError } from '@trellis/jobs';
import { type JobInfo, PermanentJobError } from '@trellis/jobs/worker';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_INVOICE_LINK_SECRET } from '../src/env.ts';
import { signInvoiceLink } from '../src/invoices/link.ts';
import { renderInvoicePdf } from '../src/invoices/render.ts';
import { enqueueOrderPlaced } from '../src/jobs/enqueue.ts';
import { invoiceHandler } from '../src/jobs/invoice.ts';
import { invoiceQueue, jobs } from '../src/jobs/queues.ts';
import { insertOrder } from '../src/resolvers/mutation.ts';
import { subgraph } from '../src/service.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'));
});
afterAll(async () => {
  await service?.stop();
});

const sql = () => service.running.database.sql;
const database = () => service.running.database as never;
const as = (userId: number) => ({ as: { userId: String(userId), scopes: [] } });
const origin = () => service.url.replace(/\/graphql$/, '');
const jobInfo = (messageId: string, attempt = 1): JobInfo => ({
  id: randomUUID(),
  queue: invoiceQueue.name,
  messageId,
  attempt,
  signal: new AbortController().signal,
});

/** An order written as placeOrder writes it: order, lines and jobs in one transaction. */
async function placeOrder(buyerId: number, options: { rollback?: boolean } = {}): Promise<number> {
  let id = 0;
  const write = service.running.database.db.transaction(async (tx) => {
    const order = await insertOrder(tx as never, {
      buyerId,
      idempotencyKey: randomUUID(),
      requestHash: 'h',
      lines: [
        { productId: 3, quantity: 2, unitPriceCents: 1999 },
        { productId: 4, quantity: 1, unitPriceCents: 500 },
      ],
    });
    id = order!.id;
    await enqueueOrderPlaced(tx as never, id);
    if (options.rollback) throw new Error('roll back');
  });
  if (options.rollback) await expect(write).rejects.toThrow('roll back');
  else await write;
  return id;
}

const invoiceJobs = async (orderId: number) =>
  sql()`select state::text from orders_jobs.job where name = 'invoice' and (data->>'orderId')::bigint = ${orderId}`;
const invoiceRow = async (orderId: number) =>
  (
    await sql()`select status::text, generated_at, length(pdf) as bytes from orders.invoices where order_id = ${orderId}`
  )[0];
const INVOICE = (id: number) => `{ order(id: "${id}") { invoice { status downloadPath url expiresAt generatedAt } } }`;

describe('invoices', () => {
  it('placeOrder writes a PENDING invoice and its job in its transaction; a rollback writes neither', async () => {
    const rolledBack = await placeOrder(7, { rollback: true });
    expect(await invoiceJobs(rolledBack)).toEqual([]);
    expect(await invoiceRow(rolledBack)).toBeUndefined();
    const id = await placeOrder(7);
    expect(await invoiceJobs(id)).toEqual([{ state: 'created' }]);
    expect(await invoiceRow(id)).toEqual({ status: 'PENDING', generated_at: null, bytes: null });
    const { body } = await service.query(INVOICE(id), {}, as(7));
    expect(body).toEqual({
      data: {
        order: { invoice: { status: 'PENDING', downloadPath: null, url: null, expiresAt: null, generatedAt: null } },
      },
      // The entity tags the gateway's response cache files this response under.
      extensions: { trellis: { entities: [`Order:${id}`] } },
    });
  });

  it('renders once however often, and however concurrently, the job runs', async () => {
    const id = await placeOrder(8);
    let renders = 0;
    const handler = invoiceHandler(database(), {
      render: (data) => {
        renders += 1;
        return renderInvoicePdf(data);
      },
    });
    await handler.handle({ orderId: id }, jobInfo(`invoice:${id}`));
    const first = await invoiceRow(id);
    expect(first!.status).toBe('READY');
    await handler.handle({ orderId: id }, jobInfo(`invoice:${id}`));
    await Promise.all([
      handler.handle({ orderId: id }, jobInfo('duplicate-a')),
      handler.handle({ orderId: id }, jobInfo('duplicate-b')),
    ]);
    expect(renders).toBe(1);
    expect(await invoiceRow(id)).toEqual(first);
    expect(await sql()`select 1 from orders.processed_messages where message_id = ${`invoice:${id}`}`).toHaveLength(1);
  });

  it('shows the invoice to its buyer only, with a download link that serves the PDF', async () => {
    const id = await placeOrder(9);
    await invoiceHandler(database()).handle({ orderId: id }, jobInfo(`invoice:${id}`));
    const { body } = await service.query(INVOICE(id), {}, as(9));
    expect(body.errors).toBeUndefined();
    const invoice = (body.data as any).order.invoice;
    expect(invoice.status).toBe('READY');
    expect(invoice.generatedAt).not.toBeNull();
    expect(invoice.downloadPath).toMatch(new RegExp(`^/invoices\\?order=${id}&expires=\\d+&signature=`));
    expect(invoice.url).toBe(`http://localhost:4005${invoice.downloadPath}`);
    expect(new Date(invoice.expiresAt).getTime()).toBeGreaterThan(Date.now() + 60_000);

    // Another user reaches the order only as an entity, and sees no invoice there.
    const other = await service.query(INVOICE(id), {}, as(10));
    expect(other.body).toEqual({ data: { order: null } });
    const entity = await service.query(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { invoice { status downloadPath } } } }',
      { r: [{ __typename: 'Order', id: String(id) }] },
      as(10),
    );
    expect(entity.body).toEqual({
      data: { _entities: [{ invoice: null }] },
      extensions: { trellis: { entities: [`Order:${id}`] } },
    });

    const download = await fetch(`${origin()}${invoice.downloadPath}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('cache-control')).toBe('private, no-store');
    const pdf = Buffer.from(await download.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.length).toBe((await invoiceRow(id))!.bytes);
  });

  it('refuses forged, expired and malformed links with typed errors, and unready invoices with NOT_FOUND', async () => {
    const id = await placeOrder(11);
    await invoiceHandler(database()).handle({ orderId: id }, jobInfo(`invoice:${id}`));
    const valid = signInvoiceLink(id, { secret: DEV_INVOICE_LINK_SECRET, ttlSeconds: 300 });
    const refusal = async (path: string) => {
      const response = await fetch(`${origin()}${path}`);
      return { status: response.status, body: (await response.json()) as any };
    };
    const forgedOrder = valid.path.replace(`order=${id}`, `order=${id + 1}`);
    const forgedSecret = signInvoiceLink(id, { secret: 'guessed-secret', ttlSeconds: 300 }).path;
    for (const path of [forgedOrder, forgedSecret]) {
      expect(await refusal(path)).toEqual({
        status: 403,
        body: {
          errors: [
            {
              message: 'Invoice link refused (BAD_SIGNATURE)',
              extensions: { code: 'FORBIDDEN', reason: 'BAD_SIGNATURE' },
            },
          ],
        },
      });
    }
    const expired = signInvoiceLink(id, { secret: DEV_INVOICE_LINK_SECRET, ttlSeconds: 60, now: Date.now() - 120_000 });
    expect((await refusal(expired.path)).body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'EXPIRED' });
    expect((await refusal('/invoices?order=1')).body.errors[0].extensions).toEqual({
      code: 'FORBIDDEN',
      reason: 'MALFORMED',
    });

    const pending = await placeOrder(11);
    const unready = signInvoiceLink(pending, { secret: DEV_INVOICE_LINK_SECRET, ttlSeconds: 300 });
    expect(await refusal(unready.path)).toMatchObject({
      status: 404,
      body: { errors: [{ extensions: { code: 'NOT_FOUND' } }] },
    });
  });

  it('marks the invoice FAILED on the last attempt, and a redrive makes it READY', async () => {
    const id = await placeOrder(12);
    const broken = invoiceHandler(database(), {
      render: () => Promise.reject(new Error('renderer crashed')),
    });
    await expect(broken.handle({ orderId: id }, jobInfo('attempt-1', 1))).rejects.toThrow('renderer crashed');
    expect((await invoiceRow(id))!.status).toBe('PENDING');
    await expect(broken.handle({ orderId: id }, jobInfo('attempt-last', invoiceQueue.retry.attempts))).rejects.toThrow(
      'renderer crashed',
    );
    expect((await invoiceRow(id))!.status).toBe('FAILED');
    const failed = await service.query(INVOICE(id), {}, as(12));
    expect((failed.body.data as any).order.invoice.status).toBe('FAILED');
    // The failed runs rolled back their processed-message records: a redrive renders.
    await invoiceHandler(database()).handle({ orderId: id }, jobInfo(`invoice:${id}`));
    expect((await invoiceRow(id))!.status).toBe('READY');
  });

  it('dead-letters a job for an unknown order at once, and refuses bad payloads at enqueue', async () => {
    await expect(invoiceHandler(database()).handle({ orderId: 987_654_321 }, jobInfo('ghost'))).rejects.toBeInstanceOf(
      PermanentJobError,
    );
    const before = (await sql()`select count(*)::int as n from orders_jobs.job`)[0]!.n;
    for (const payload of [{ orderId: 0 }, { orderId: '5' }, { orderId: 5, pdf: 'x'.repeat(1_000_000) }, null]) {
      const attempt = service.running.database.db.transaction((tx) =>
        jobs.enqueue(tx as never, invoiceQueue, payload as never),
      );
      await expect(attempt).rejects.toBeInstanceOf(JobPayloadError);
    }
    expect((await sql()`select count(*)::int as n from orders_jobs.job`)[0]!.n).toBe(before);
  });
});
