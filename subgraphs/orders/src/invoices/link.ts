// Short-lived signed download links for invoices. The orders subgraph issues one to the
// buyer only (Order.invoice.downloadPath) and verifies it when serving the bytes: an
// HMAC-SHA256 over (order id, expiry) with a secret only the orders service holds, so the
// download needs no session and the link cannot be forged, widened to another order or
// extended.
import { sign, verify } from '@trellis/signing';

/** Path (exact) the orders service serves invoices on. */
export const INVOICE_ROUTE = '/invoices';

export interface InvoiceLink {
  /** `/invoices?order=…&expires=…&signature=…`, relative to the public origin. */
  path: string;
  expiresAt: Date;
}

/** Why a link was refused; every refusal is FORBIDDEN with this as `extensions.reason`. */
export type InvoiceLinkRefusal = 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED';

export type InvoiceLinkCheck = { ok: true; orderId: number } | { ok: false; reason: InvoiceLinkRefusal };

/** What a link's signature covers. */
const signed = (orderId: number, expires: number) => `invoice:${orderId}:${expires}`;

/** A link to order `orderId`'s invoice, valid for `ttlSeconds` from `now`. */
export function signInvoiceLink(
  orderId: number,
  options: { secret: string; ttlSeconds: number; now?: number },
): InvoiceLink {
  const expires = Math.floor((options.now ?? Date.now()) / 1000) + options.ttlSeconds;
  const mac = sign(options.secret, signed(orderId, expires), { encoding: 'base64url' });
  return {
    path: `${INVOICE_ROUTE}?order=${orderId}&expires=${expires}&signature=${mac}`,
    expiresAt: new Date(expires * 1000),
  };
}

/** Checks a link's query string: signature first (constant time), then expiry. */
export function verifyInvoiceLink(query: URLSearchParams, options: { secret: string; now?: number }): InvoiceLinkCheck {
  const order = query.get('order') ?? '';
  const expiresText = query.get('expires') ?? '';
  const given = Buffer.from(query.get('signature') ?? '', 'base64url');
  if (!/^[1-9]\d{0,14}$/.test(order) || !/^\d{1,12}$/.test(expiresText) || given.length === 0) {
    return { ok: false, reason: 'MALFORMED' };
  }
  const orderId = Number(order);
  const expires = Number(expiresText);
  // Bytes against the raw digest, as links were always checked.
  if (!verify(options.secret, signed(orderId, expires), given)) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (expires * 1000 <= (options.now ?? Date.now())) return { ok: false, reason: 'EXPIRED' };
  return { ok: true, orderId };
}
