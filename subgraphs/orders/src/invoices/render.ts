// Renders an order's invoice as a PDF (pdfkit, built-in Helvetica: no font files to ship).
// Products are another subgraph's: lines name them by id, with the price paid.
import PDFDocument from 'pdfkit';

export interface InvoiceData {
  orderId: number;
  buyerId: number;
  placedAt: Date;
  lines: { productId: number; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  /** Stamped in the document and its metadata (a fixed value gives identical bytes). */
  issuedAt: Date;
}

const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function renderInvoicePdf(invoice: InvoiceData): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `Invoice for order ${invoice.orderId}`, Author: 'Trellis', CreationDate: invoice.issuedAt },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.fontSize(20).text(`Invoice — order ${invoice.orderId}`);
  doc.moveDown(0.5).fontSize(10);
  doc.text(`Buyer: user ${invoice.buyerId}`);
  doc.text(`Placed: ${invoice.placedAt.toISOString()}`);
  doc.text(`Issued: ${invoice.issuedAt.toISOString()}`);
  doc.moveDown();
  doc.font('Helvetica-Bold').text('Product        Quantity        Unit price        Amount');
  doc.font('Helvetica');
  for (const line of invoice.lines) {
    doc.text(
      `#${line.productId}        ${line.quantity}        ${money(line.unitPriceCents)}        ${money(line.quantity * line.unitPriceCents)}`,
    );
  }
  doc
    .moveDown()
    .font('Helvetica-Bold')
    .text(`Total: ${money(invoice.totalCents)}`);
  doc.end();
  return done;
}
