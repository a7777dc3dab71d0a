// One federated query through the real gateway touching all five subgraphs, checked
// against the deterministic seed.
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../src/harness.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
});
afterAll(async () => {
  await graph?.stop();
});

const QUERY = /* GraphQL */ `
  query ProductPage($id: ID!) {
    me {
      id
      email
      orders(first: 1, orderBy: { field: CREATED_AT, direction: ASC }) {
        edges {
          node {
            id
            total
            lines {
              quantity
              unitPrice
              product {
                id
                name
              }
            }
          }
        }
      }
    }
    product(id: $id) {
      id
      name
      price
      weight
      category
      inStock
      quantity
      shippingEstimate
      reviewCount
      averageRating
      reviews(first: 2, orderBy: { field: CREATED_AT, direction: ASC }) {
        totalCount
        edges {
          node {
            id
            rating
            author {
              id
              name
            }
          }
        }
      }
    }
  }
`;

describe('the federated graph', () => {
  it('answers one query across accounts, products, inventory, reviews and orders from seeded data', async () => {
    // Orders are visible to their buyer only: ask as the author of product 7's first review.
    const [first] = await graph.subgraphs.reviews!.running.database.sql`
      select author_id from reviews.reviews where product_id = 7 order by created_at, id limit 1`;
    const token = await tokenFor(first!.author_id);
    const { status, body } = await graphql<{ product: Record<string, any>; me: Record<string, any> }>(
      graph.url,
      QUERY,
      { id: '7' },
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(status).toBe(200);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const product = body.data?.product;
    expect(product).toBeTruthy();

    // products, read straight from its database for comparison
    const [row] = await graph.subgraphs.products!.running.database.sql`
      select name, price_cents, weight_grams, category from products.products where id = 7`;
    expect(product!.name).toBe(row!.name);
    expect(product!.price).toBe(row!.price_cents / 100);
    expect(product!.weight).toBe(row!.weight_grams / 1000);
    expect(product!.category).toBe(row!.category);

    // inventory (with @requires price and weight from products)
    const [stock] = await graph.subgraphs.inventory!.running.database.sql`
      select quantity from inventory.stock where product_id = 7`;
    expect(product!.quantity).toBe(stock!.quantity);
    expect(product!.inStock).toBe(stock!.quantity > 0);
    const expectedShipping =
      row!.price_cents >= 10_000 ? 0 : Math.round((4.99 + Math.ceil(row!.weight_grams / 1000) * 2.5) * 100) / 100;
    expect(product!.shippingEstimate).toBe(expectedShipping);

    // reviews: aggregates and the first page, oldest first
    const reviews = await graph.subgraphs.reviews!.running.database.sql`
      select id, rating, author_id from reviews.reviews where product_id = 7 order by created_at, id`;
    expect(product!.reviewCount).toBe(reviews.length);
    expect(product!.reviews.totalCount).toBe(reviews.length);
    const mean = reviews.reduce((sum, r) => sum + r.rating, 0) / reviews.length;
    expect(product!.averageRating).toBeCloseTo(mean, 10);
    const edges = product!.reviews.edges;
    expect(edges.map((e: any) => e.node.id)).toEqual(reviews.slice(0, 2).map((r) => String(r.id)));

    // accounts: the author's name, and `me` (the signed-in author) with their own email;
    // orders: my first order with its lines and their products' names
    const author = edges[0].node.author;
    expect(author.id).toBe(String(reviews[0]!.author_id));
    const [user] = await graph.subgraphs.accounts!.running.database.sql`
      select name, email from accounts.users where id = ${reviews[0]!.author_id}`;
    expect(author.name).toBe(user!.name);
    const me = body.data!.me as Record<string, any>;
    expect(me.id).toBe(author.id);
    expect(me.email).toBe(user!.email);
    const [order] = await graph.subgraphs.orders!.running.database.sql`
      select id, total_cents from orders.orders where buyer_id = ${reviews[0]!.author_id} order by created_at, id limit 1`;
    const firstOrder = me.orders.edges[0].node;
    expect(firstOrder.id).toBe(String(order!.id));
    expect(firstOrder.total).toBe(order!.total_cents / 100);
    const lineSum = firstOrder.lines.reduce(
      (sum: number, l: any) => sum + l.quantity * Math.round(l.unitPrice * 100),
      0,
    );
    expect(lineSum).toBe(order!.total_cents);
    for (const line of firstOrder.lines) expect(line.product.name).toMatch(new RegExp(` ${line.product.id}$`));
  });

  it('reports ready on /health once the supergraph is loaded', async () => {
    const base = graph.url.replace(/\/graphql$/, '');
    for (const path of ['/health', '/health/ready', '/health/live']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
    }
  });

  it('serves Prometheus metrics on /metrics of the gateway and every subgraph', async () => {
    const urls = [graph.url, ...Object.values(graph.subgraphs).map((s) => s.url)];
    for (const url of urls) {
      const response = await fetch(url.replace(/\/graphql$/, '/metrics'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      expect(await response.text()).toMatch(/^process_cpu_user_seconds_total \d/m);
    }
  });

  it('answers null, not an error, for an unknown product id', async () => {
    const { body } = await graphql(graph.url, '{ product(id: "999999") { id name } }');
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ product: null });
  });
});
