// The estimator's figures for the storefront's operations (clients/storefront's persisted
// manifest), read from the committed supergraph's @cost/@listSize: pinned, so a schema change
// that moves what a client is charged (operation limit, rate-limit points) shows up here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiSchemaOf } from '@trellis/composition/changes';
import { type DocumentNode, Kind, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/src/workspace.ts';
import { costEstimator, readCostHints } from '../src/cost.ts';

const supergraph = readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8');
const schema = apiSchemaOf(supergraph);
const hints = readCostHints(supergraph);
const manifest = JSON.parse(readFileSync(join(ROOT, 'clients/storefront/persisted-operations.json'), 'utf8')) as {
  operations: { name: string; body: string }[];
};

function cost(query: string | DocumentNode, variables: Record<string, unknown> = {}): number {
  const document = typeof query === 'string' ? parse(query) : query;
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  return getComplexity({ schema, query: document, variables, estimators: [costEstimator(() => hints, fragments)] });
}

const storefront = (name: string) => {
  const operation = manifest.operations.find((o) => o.name === name);
  if (!operation) throw new Error(`no ${name} in the storefront manifest`);
  return parse(operation.body);
};

const line = (productId: string) => ({ productId, quantity: 1 });

describe('cost of the storefront operations (pinned)', () => {
  it('reads @cost and @listSize from the committed supergraph', () => {
    expect(hints.listSizes.get('Query.products')).toEqual({
      assumedSize: 20,
      slicingArguments: ['first', 'last'],
      sizedFields: ['edges'],
    });
    expect(hints.sized.has('ProductConnection.edges')).toBe(true);
    expect(hints.weights.get('ProductFilter.search')).toBe(10);
    expect(hints.weights.get('Mutation.placeOrder')).toBe(10);
    expect(hints.listSizes.get('Order.lines')).toEqual({ assumedSize: 50 });
  });

  it('charges what the schema says, per operation and page size', () => {
    const figures = {
      'Catalogue first 20': cost(storefront('Catalogue'), { first: 20 }),
      'Catalogue first 100': cost(storefront('Catalogue'), { first: 100 }),
      'Catalogue first 20, search': cost(storefront('Catalogue'), { first: 20, filter: { search: 'lamp' } }),
      ProductPage: cost(storefront('ProductPage'), { id: '1' }),
      AddReview: cost(storefront('AddReview'), { input: { productId: '1', rating: 5, body: 'ok' } }),
      PlaceOrder: cost(storefront('PlaceOrder'), { input: { idempotencyKey: 'k-00000001', lines: [line('1')] } }),
    };
    expect(figures).toEqual({
      // products 1 + totalCount 5 + pageInfo 1 + first × (edges 1 + node 1); ProductCard's fields are leaves.
      'Catalogue first 20': 47,
      'Catalogue first 100': 207,
      // + ProductFilter.search's weight.
      'Catalogue first 20, search': 57,
      // product 1 + reviews (1 + 10 × (edges 1 + node 1 + author 1)) + stock: product 1.
      ProductPage: 33,
      // addReview 5 + review 1 + userErrors 1.
      AddReview: 7,
      // placeOrder 10 + order (1 + lines (1 + 50 assumed × product 1)) + userErrors 1.
      PlaceOrder: 63,
    });
  });

  it('multiplies only the sized field of a connection: pageInfo and totalCount are paid once', () => {
    const page = (n: number) =>
      `{ products(first: ${n}) { totalCount pageInfo { hasNextPage } edges { node { id } } } }`;
    // products 1 + totalCount 5 + pageInfo 1 + n × (edges 1 + node 1)
    expect(cost(page(10))).toBe(1 + 5 + 1 + 10 * 2);
    expect(cost(page(50))).toBe(1 + 5 + 1 + 50 * 2);
    // No first: the assumed page of 20.
    expect(cost('{ products { edges { node { id } } } }')).toBe(1 + 20 * 2);
  });

  it('reads the directives under the names the supergraph links them as', () => {
    const renamed = readCostHints(`schema @link(url: "https://specs.apollo.dev/link/v1.0")
      @link(url: "https://specs.apollo.dev/cost/v0.1", as: "demand") { query: Query }
      directive @demand(weight: Int!) on FIELD_DEFINITION
      directive @demand__listSize(assumedSize: Int) on FIELD_DEFINITION
      directive @link(url: String, as: String, import: [String]) repeatable on SCHEMA
      type Query { a: Int @demand(weight: 7) b: [Int] @demand__listSize(assumedSize: 3) c: Int @cost(weight: 9) }`);
    expect(renamed.weights.get('Query.a')).toBe(7);
    expect(renamed.listSizes.get('Query.b')).toEqual({ assumedSize: 3 });
    // Not the cost spec's directive under this supergraph's names.
    expect(renamed.weights.has('Query.c')).toBe(false);
  });
});
