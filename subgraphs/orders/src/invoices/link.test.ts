import { describe, expect, it } from 'vitest';
import { signInvoiceLink, verifyInvoiceLink } from './link.ts';

const secret = 'a-test-secret-of-sufficient-length-0123';
const now = Date.UTC(2026, 0, 1);
const query = (path: string) => new URL(path, 'http://x').searchParams;

describe('invoice links', () => {
  it('verifies its own link until it expires', () => {
    const link = signInvoiceLink(42, { secret, ttlSeconds: 300, now });
    expect(link.path).toMatch(/^\/invoices\?order=42&expires=\d+&signature=[\w-]+$/);
    expect(link.expiresAt.getTime()).toBe(now + 300_000);
    expect(verifyInvoiceLink(query(link.path), { secret, now: now + 299_000 })).toEqual({ ok: true, orderId: 42 });
    expect(verifyInvoiceLink(query(link.path), { secret, now: now + 300_000 })).toEqual({
      ok: false,
      reason: 'EXPIRED',
    });
  });

  it('refuses a link for another order, a later expiry or another secret', () => {
    const link = signInvoiceLink(42, { secret, ttlSeconds: 300, now });
    const params = query(link.path);
    const otherOrder = new URLSearchParams(params);
    otherOrder.set('order', '43');
    const extended = new URLSearchParams(params);
    extended.set('expires', String(Number(params.get('expires')) + 3600));
    for (const forged of [otherOrder, extended]) {
      expect(verifyInvoiceLink(forged, { secret, now })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    }
    expect(verifyInvoiceLink(params, { secret: `${secret}x`, now })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses malformed links without throwing', () => {
    for (const search of [
      '',
      'order=abc&expires=1&signature=AA',
      'order=1&expires=&signature=AA',
      'order=1&expires=9',
    ]) {
      expect(verifyInvoiceLink(new URLSearchParams(search), { secret, now })).toEqual({
        ok: false,
        reason: 'MALFORMED',
      });
    }
    expect(
      verifyInvoiceLink(new URLSearchParams('order=1&expires=9999999999&signature=short'), { secret, now }),
    ).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });
});
