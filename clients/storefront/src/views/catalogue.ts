// The catalogue: one page of products by price, with Relay pagination — Next asks for
// `first` after the page's endCursor, Previous for `last` before its startCursor. The
// cursor lives in the URL (#/?after=… / #/?before=…), so pages can be linked and reloaded.
import { PAGE_SIZE } from '../config.ts';
import { h, money, stars } from '../dom.ts';
import { renderErrors } from '../errors.ts';
import { request } from '../graphql-client.ts';
import { Catalogue } from '../operations.ts';

export async function catalogueView(params: URLSearchParams, signal: AbortSignal): Promise<HTMLElement> {
  const before = params.get('before');
  const after = params.get('after');
  const variables = before ? { last: PAGE_SIZE, before } : { first: PAGE_SIZE, after };
  const { data, errors } = await request(Catalogue, variables, signal);
  const products = data?.products;
  if (!products) return h('section', { class: 'catalogue' }, renderErrors(errors));
  const { pageInfo } = products;
  const go = (query: string) => () => {
    location.hash = `#/?${query}`;
  };
  return h(
    'section',
    { class: 'catalogue' },
    h('h1', {}, 'Catalogue'),
    h('p', { class: 'count' }, `${products.totalCount} products`),
    renderErrors(errors),
    h(
      'ul',
      { class: 'products' },
      ...products.edges.map(({ node }) =>
        h(
          'li',
          { class: 'product-card', 'data-id': node.id },
          h('a', { href: `#/product/${node.id}` }, node.name),
          h('span', { class: 'price' }, money(node.price)),
          h('span', { class: 'rating' }, stars(node.averageRating)),
          h('span', { class: node.inStock ? 'stock' : 'stock out' }, node.inStock ? 'in stock' : 'out of stock'),
        ),
      ),
    ),
    h(
      'nav',
      { class: 'pager' },
      h(
        'button',
        { id: 'previous', disabled: !pageInfo.hasPreviousPage, onclick: go(`before=${pageInfo.startCursor ?? ''}`) },
        '← Previous',
      ),
      h(
        'button',
        { id: 'next', disabled: !pageInfo.hasNextPage, onclick: go(`after=${pageInfo.endCursor ?? ''}`) },
        'Next →',
      ),
    ),
  );
}
