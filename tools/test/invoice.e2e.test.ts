// Invoices through the whole graph: placeOrder at the gateway enqueues the invoice job with
// the order; once the worker's handler rendered it, the buyer reads Order.invoice through
// the gateway (PRIVATE: never another user's cached response) and downloads the PDF from
// the signed link; another user sees no order and no invoice.
import { randomUUID } from 'node:crypto';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { invoiceHandler } from '../../subgraphs/orders/src/jobs/invoice.ts';
import { startGraph, type TestGraph, tokenFor } from '../src/harness.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  vi.stubEnv('CATALOGUE_URL', graph.subgraphs.products!.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await graph?.stop();
});

const as = async (userId: number) => ({ authorization: `Bearer ${await tokenFor(userId)}` });
const INVOICE = /* GraphQL */ `
  query OrderInvoice($id: ID!) { order(id: $id) { id invoice { status downloadPath generatedAt } } }
`;

describe('Order.invoice through the gateway', () => {
  it('is the buyer’s: READY with a working download link, null for anyone else', async () => {
    const [product] = await graph.subgraphs.products!.running.database
      .sql`select id from products.products order by id limit 1`;
    const placed = await graphql(
      graph.url,
      'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code } } }',
      { input: { idempotencyKey: randomUUID(), lines: [{ productId: String(product!.id), quantity: 3 }] } },
      await as(3),
    );
    expect(placed.body.errors).toBeUndefined();
    const id = Number((placed.body.data as any).placeOrder.order.id);
    const orders = graph.subgraphs.orders!.running;
    const [job] = await orders.database.sql`
      select id, data->>'_msg' as message from orders_jobs.job where name = 'invoice' and (data->>'orderId')::bigint = ${id}`;
    expect(job).toBeDefined();

    // What the orders worker does with that job.
    await invoiceHandler(orders.database as never).handle(
      { orderId: id },
      { id: job!.id, queue: 'invoice', messageId: job!.message, attempt: 1, signal: new AbortController().signal },
    );

    const mine = await graphql(graph.url, INVOICE, { id: String(id) }, await as(3));
    expect(mine.body.errors).toBeUndefined();
    const invoice = (mine.body.data as any).order.invoice;
    expect(invoice.status).toBe('READY');
    const theirs = await graphql(graph.url, INVOICE, { id: String(id) }, await as(4));
    expect(theirs.body).toEqual({ data: { order: null } });

    const download = await fetch(new URL(invoice.downloadPath, orders.url));
    expect(download.status).toBe(200);
    expect(
      Buffer.from(await download.arrayBuffer())
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-');
    const forged = invoice.downloadPath.replace(
      /signature=(.)/,
      (_: string, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`,
    );
    const tampered = await fetch(new URL(forged, orders.url));
    expect(tampered.status).toBe(403);
  });
});
