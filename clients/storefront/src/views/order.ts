// An order and its invoice. The invoice is rendered by the orders worker after the order
// is placed: while it is PENDING the page asks again every second (until it is READY or
// FAILED, or the shopper leaves the page); READY shows the signed PDF link.
import { h, money } from '../dom.ts';
import { renderErrors } from '../errors.ts';
import { request } from '../graphql-client.ts';
import { OrderStatus } from '../operations.ts';

const POLL_MS = 1000;

export async function orderView(id: string, signal: AbortSignal, update: (view: HTMLElement) => void) {
  for (;;) {
    const { data, errors } = await request(OrderStatus, { id }, signal);
    const order = data?.order;
    const invoice = order?.invoice;
    const view = h(
      'section',
      { class: 'order', 'data-id': id },
      h('h1', {}, `Order ${id}`),
      renderErrors(errors),
      order
        ? h(
            'dl',
            {},
            h('dt', {}, 'Status'),
            h('dd', { class: 'status' }, order.status),
            h('dt', {}, 'Total'),
            h('dd', { class: 'total' }, money(order.total)),
            h('dt', {}, 'Invoice'),
            h(
              'dd',
              { class: 'invoice', 'data-status': invoice?.status ?? 'NONE' },
              invoice?.status ?? 'none',
              invoice?.url
                ? h('a', { class: 'invoice-pdf', href: invoice.url, target: '_blank' }, ' Download PDF')
                : null,
            ),
          )
        : errors.length === 0 && h('p', {}, 'No such order (or not yours).'),
    );
    update(view);
    if (invoice?.status !== 'PENDING') return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (signal.aborted) return;
  }
}
