// GET /invoices?order=…&expires=…&signature=…: serves a READY invoice's PDF to whoever holds
// a valid link (issued to the buyer only, short-lived). Refusals are JSON errors with the
// catalogue's codes: FORBIDDEN (reason MALFORMED | BAD_SIGNATURE | EXPIRED) or NOT_FOUND.
import type { ServerResponse } from 'node:http';
import type { Database } from '@trellis/db';
import { ErrorCode } from '@trellis/errors';
import { methodNotAllowed, type Route } from '@trellis/subgraph-kit';
import { and, eq } from 'drizzle-orm';
import { invoices, type schema } from '../db/schema.ts';
import { verifyInvoiceLink } from './link.ts';

function refuse(res: ServerResponse, status: number, code: ErrorCode, message: string, extra: object = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...extra } }] }));
}

export function invoiceRoute(database: Database<typeof schema>, options: { secret: () => string }): Route {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      methodNotAllowed(req, res, 'GET, HEAD');
      return;
    }
    const query = new URL(req.url ?? '/', 'http://invoice.local').searchParams;
    const check = verifyInvoiceLink(query, { secret: options.secret() });
    if (!check.ok) {
      refuse(res, 403, ErrorCode.FORBIDDEN, `Invoice link refused (${check.reason})`, { reason: check.reason });
      return;
    }
    const [row] = await database.db
      .select({ pdf: invoices.pdf })
      .from(invoices)
      .where(and(eq(invoices.orderId, check.orderId), eq(invoices.status, 'READY')));
    if (!row?.pdf) {
      refuse(res, 404, ErrorCode.NOT_FOUND, 'No ready invoice for this order');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/pdf',
      'content-length': String(row.pdf.length),
      'content-disposition': `attachment; filename="invoice-${check.orderId}.pdf"`,
      // The link is a bearer capability: keep the bytes out of shared caches.
      'cache-control': 'private, no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : row.pdf);
  };
}
