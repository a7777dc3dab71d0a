// Order.invoice and the Invoice type: status for the buyer, and a short-lived signed
// download link once the PDF is ready.
import type { InvoiceSummary } from '../db/schema.ts';
import { invoiceLinks } from '../env.ts';
import type { InvoiceResolvers } from '../generated/graphql.ts';
import { signInvoiceLink } from '../invoices/link.ts';

/** One link per invoice per request (downloadPath, url and expiresAt agree). */
const links = new WeakMap<InvoiceSummary, ReturnType<typeof signInvoiceLink>>();
function linkOf(invoice: InvoiceSummary) {
  if (invoice.status !== 'READY') return null;
  let link = links.get(invoice);
  if (!link) {
    const config = invoiceLinks();
    link = signInvoiceLink(invoice.orderId, {
      secret: config.INVOICE_LINK_SECRET,
      ttlSeconds: config.INVOICE_LINK_TTL_SECONDS,
    });
    links.set(invoice, link);
  }
  return link;
}

export const Invoice: InvoiceResolvers = {
  downloadPath: (invoice) => linkOf(invoice)?.path ?? null,
  url: (invoice) => {
    const link = linkOf(invoice);
    return link ? new URL(link.path, invoiceLinks().INVOICE_BASE_URL).toString() : null;
  },
  expiresAt: (invoice) => linkOf(invoice)?.expiresAt ?? null,
};
