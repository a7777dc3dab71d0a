// The product page: details, rating and reviews (products, reviews), stock (inventory,
// under its own root field so an inventory outage leaves the rest), and "Place order".
// Placing an order: one idempotency key per checkout (chosen when the page renders), sent
// again on every retry and every extra click, so however often the button fires the shop
// places one order; the button is also disabled while the order is on its way.
import { h, money, stars } from '../dom.ts';
import { renderErrors } from '../errors.ts';
import { request } from '../graphql-client.ts';
import { PlaceOrder, ProductPage } from '../operations.ts';
import { signedIn } from '../session.ts';

export async function productView(id: string, signal: AbortSignal): Promise<HTMLElement> {
  const { data, errors } = await request(ProductPage, { id }, signal);
  const product = data?.product;
  if (!product) return h('section', { class: 'product' }, renderErrors(errors) ?? h('p', {}, 'No such product.'));
  const stock = data.stock;
  const status = h('div', { class: 'order-status' });
  const idempotencyKey = crypto.randomUUID();
  let placing = false;
  const order = h('button', { id: 'place-order', type: 'button' }, 'Place order');
  order.addEventListener('click', () => {
    // A repeated click is dropped while the order is on its way; were it sent, it would carry
    // the same key and get the same order back.
    if (placing) return;
    placing = true;
    void placeOrder(product.id, idempotencyKey, order, status).finally(() => {
      placing = false;
    });
  });
  return h(
    'section',
    { class: 'product', 'data-id': product.id },
    h('h1', {}, product.name),
    renderErrors(errors),
    h('p', { class: 'description' }, product.description),
    h(
      'dl',
      {},
      h('dt', {}, 'Price'),
      h('dd', { class: 'price' }, money(product.price)),
      h('dt', {}, 'Rating'),
      h('dd', { class: 'rating' }, `${stars(product.averageRating)} (${product.reviewCount} reviews)`),
      h('dt', {}, 'Stock'),
      h(
        'dd',
        { class: 'stock' },
        stock
          ? stock.inStock
            ? `${stock.quantity} in stock, shipping ${stock.shippingEstimate === 0 ? 'free' : money(stock.shippingEstimate)}`
            : 'out of stock'
          : 'stock unavailable right now',
      ),
    ),
    signedIn() ? order : h('p', {}, h('a', { href: '#/sign-in' }, 'Sign in'), ' to order.'),
    status,
    h('h2', {}, 'Reviews'),
    h(
      'ul',
      { class: 'reviews' },
      ...product.reviews.edges.map(({ node }) =>
        h('li', { class: 'review' }, h('strong', {}, `${node.rating}/5`), ' ', node.body, ' — ', node.author.name),
      ),
    ),
  );
}

async function placeOrder(productId: string, idempotencyKey: string, button: HTMLButtonElement, status: HTMLElement) {
  button.disabled = true;
  status.replaceChildren('Placing your order…');
  const { data, errors } = await request(PlaceOrder, {
    input: { idempotencyKey, lines: [{ productId, quantity: 1 }] },
  });
  const placed = data?.placeOrder;
  if (placed?.order) {
    location.hash = `#/order/${placed.order.id}`;
    return;
  }
  status.replaceChildren(
    ...(placed?.userErrors ?? []).map((e) => h('p', { class: 'user-error', 'data-code': e.code }, e.message)),
    renderErrors(errors) ?? '',
  );
}
