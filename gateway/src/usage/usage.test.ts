// Operation shapes (signature, hash, coordinates through fragments and abstract types) and
// the bounded in-memory aggregate.
import { buildSchema, type OperationDefinitionNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UsageAggregator } from './aggregator.ts';
import { describeOperation } from './operation.ts';

const schema = buildSchema(`
  interface Node { id: ID! }
  type Product implements Node { id: ID! name: String! price(currency: Currency = EUR): Float! }
  type User implements Node { id: ID! name: String! }
  union SearchResult = Product | User
  enum Currency { EUR USD }
  input Filter { search: String category: String }
  type Query {
    node(id: ID!): Node
    search(filter: Filter): [SearchResult!]!
    product(id: ID!): Product
  }
`);

const shape = (text: string) => {
  const document = parse(text);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return describeOperation(schema, document, operation);
};

describe('operation shape', () => {
  it('strips literals and aliases from the signature, so the hash is stable across values', () => {
    const a = shape('query P { p: product(id: "1") { name price(currency: USD) } }');
    const b = shape('query P {\n  product(id: "2") { price(currency: USD) name }\n}');
    expect(a.signature).toBe(b.signature);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.signature).not.toContain('"1"');
    expect(shape('query Q { product(id: "1") { name } }').hash).not.toBe(a.hash);
    expect(a).toMatchObject({ name: 'P', type: 'query' });
  });

  it('finds coordinates through fragments, arguments, input fields, enum values and abstract types', () => {
    const { coordinates } = shape(`
      query Search($f: Filter) {
        search(filter: $f) { ...Hit }
        node(id: "1") { id ... on User { name } }
        product(id: "1") { price(currency: USD) }
        again: search(filter: { category: "x" }) { __typename }
      }
      fragment Hit on SearchResult { ... on Product { name } }
      fragment Unused on User { id }
    `);
    expect(coordinates).toEqual(
      expect.arrayContaining([
        'Query.search',
        'Query.search(filter:)',
        'Filter',
        'Filter.category',
        'SearchResult',
        'Product.name',
        'Node.id',
        // Selected through the interface: every implementation's field is used too.
        'Product.id',
        'User.id',
        'User.name',
        'Product.price(currency:)',
        'Currency.USD',
        'Query.node(id:)',
      ]),
    );
    expect(coordinates).not.toContain('Filter.search');
    expect(coordinates).not.toContain('Query.search.__typename');
    expect(coordinates).toEqual([...coordinates].sort());
  });
});

describe('usage aggregator', () => {
  const base = { clientName: 'web', clientVersion: '1.0', errors: false, durationMs: 12, at: 3_600_000 * 5 + 10 };
  const options = { bucketMs: 3_600_000, maxEntries: 1000, maxSignatureBytes: 1024 * 1024 };

  it('adds requests of one key together with errors and latency buckets', () => {
    const aggregator = new UsageAggregator(options);
    const s = shape('query A { product(id: "1") { name } }');
    aggregator.add({ ...base, shape: s });
    aggregator.add({ ...base, shape: s, errors: true, durationMs: 9000 });
    aggregator.add({ ...base, shape: s, clientName: null, clientVersion: 'ignored' });
    const { entries, operations } = aggregator.drain();
    expect(entries).toHaveLength(2);
    const web = entries.find((e) => e.clientName === 'web');
    expect(web).toMatchObject({ bucket: 3_600_000 * 5, requests: 2, errors: 1, clientVersion: '1.0' });
    expect(web?.latencyMs.at(-1)).toBe(1);
    expect(web?.latencyMs.reduce((a, b) => a + b)).toBe(2);
    expect(entries.find((e) => e.clientName === '')).toMatchObject({ clientVersion: '', requests: 1 });
    expect([...operations.keys()]).toEqual([s.hash]);
    expect(aggregator.size).toBe(0);
  });

  it('holds at most maxEntries keys among 100,000 distinct signatures and reports the excess', () => {
    const aggregator = new UsageAggregator({ ...options, maxEntries: 500 });
    let dropped = 0;
    for (let i = 0; i < 100_000; i++) {
      const kept = aggregator.add({
        ...base,
        shape: { hash: `h${i}`, signature: `query Q${i}{a}`, name: `Q${i}`, type: 'query', coordinates: ['Query.a'] },
      });
      if (!kept) dropped++;
    }
    expect(aggregator.size).toBe(500);
    expect(dropped).toBe(99_500);
    // Known keys keep counting once the bound is reached.
    expect(
      aggregator.add({
        ...base,
        shape: { hash: 'h1', signature: 'query Q1{a}', name: 'Q1', type: 'query', coordinates: [] },
      }),
    ).toBe(true);
  });

  it('bounds the signature text it holds', () => {
    const aggregator = new UsageAggregator({ ...options, maxSignatureBytes: 1000 });
    const big = (i: number) => ({
      hash: `h${i}`,
      signature: 'x'.repeat(400),
      name: '',
      type: 'query' as const,
      coordinates: [],
    });
    expect(aggregator.add({ ...base, shape: big(1) })).toBe(true);
    expect(aggregator.add({ ...base, shape: big(2) })).toBe(true);
    expect(aggregator.add({ ...base, shape: big(3) })).toBe(false);
  });
});
