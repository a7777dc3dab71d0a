import { describe, expect, it } from 'vitest';
import { renderInvoicePdf } from './render.ts';

const invoice = {
  orderId: 7,
  buyerId: 3,
  placedAt: new Date('2026-01-02T03:04:05Z'),
  lines: [
    { productId: 11, quantity: 2, unitPriceCents: 1999 },
    { productId: 12, quantity: 1, unitPriceCents: 500 },
  ],
  totalCents: 4498,
  issuedAt: new Date('2026-01-02T03:05:00Z'),
};

describe('renderInvoicePdf', () => {
  it('renders a PDF document', async () => {
    const pdf = await renderInvoicePdf(invoice);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');
    expect(pdf.toString('latin1')).toContain('Invoice for order 7');
  });

  it('gives identical bytes for the same invoice', async () => {
    expect((await renderInvoicePdf(invoice)).equals(await renderInvoicePdf(invoice))).toBe(true);
  });
});
