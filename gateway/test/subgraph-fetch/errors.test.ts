// Errors for the gateway: client-safe errors at the subgraph-side paths of the fields a failed
// fetch would have filled; operation sniffing.
import { describe, expect, it } from 'vitest';
import { fetchFieldPaths, operationTypeOf } from '../../src/subgraph-fetch/index.ts';
import { closedPort, dataSource, failure, QUERY, run } from './harness.ts';

describe('createDataSource: errors for the gateway', () => {
  it('answers a failed incoming operation with one error per field, at subgraph-side paths the gateway maps', async () => {
    const source = dataSource({ url: `http://127.0.0.1:${await closedPort()}/graphql`, retry: { attempts: 1 } });
    const entities = await run(
      source,
      'query Q__inventory__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock qty:quantity __typename}}}',
      {
        kind: 'incoming operation',
        variables: {
          representations: [
            { __typename: 'Product', id: '1' },
            { __typename: 'Product', id: '2' },
          ],
        },
      },
    );
    const extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'reviews' };
    const message = 'Subgraph "reviews" is unavailable';
    expect(entities).toEqual({
      errors: [
        { message, extensions, path: ['_entities', 0, 'inStock'] },
        { message, extensions, path: ['_entities', 0, 'qty'] },
        { message, extensions, path: ['_entities', 1, 'inStock'] },
        { message, extensions, path: ['_entities', 1, 'qty'] },
      ],
    });

    const root = await run(
      source,
      'query Q__reviews__0{a:product(id:"7"){id} ...F} fragment F on Query{b:products{id}}',
      {
        kind: 'incoming operation',
      },
    );
    expect(root.errors?.map((e) => e.path)).toEqual([['a'], ['b']]);

    // Outside an incoming operation (health check, schema loading) the error is thrown.
    await failure(run(source, QUERY, { kind: 'health check' }));
  });

  it('reads operation types and field paths', () => {
    expect(operationTypeOf('{ a }')).toBe('query');
    expect(operationTypeOf('query X { a }')).toBe('query');
    expect(operationTypeOf('  mutation X { a }')).toBe('mutation');
    expect(operationTypeOf('fragment F on Q { a } query X { ...F }')).toBe('query');
    expect(operationTypeOf('fragment F on M { a } mutation X { ...F }', 'X')).toBe('mutation');
    expect(operationTypeOf('not graphql')).toBe('mutation');
    expect(fetchFieldPaths('mutation { addReview(input: {}) { id } }', undefined, undefined)).toEqual([['addReview']]);
    expect(fetchFieldPaths('not graphql', undefined, undefined)).toEqual([]);
  });
});
