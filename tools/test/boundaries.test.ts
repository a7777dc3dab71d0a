import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/check-boundaries.ts';

describe('boundary lint', () => {
  it('rejects a subgraph importing another subgraph, by package or by path', () => {
    const source = `import { x } from '@trellis/subgraph-products';\nimport { y } from '../../products/src/db/schema.ts';`;
    const violations = checkSource('subgraphs/reviews/src/loaders.ts', source);
    expect(violations.map((v) => v.rule)).toEqual([
      'subgraph reviews must not import subgraph products',
      'subgraph reviews must not import subgraph products',
    ]);
  });

  it('rejects the gateway or a package importing a subgraph, and a package importing the gateway', () => {
    expect(checkSource('gateway/src/index.ts', "import { s } from '@trellis/subgraph-orders';")).toHaveLength(1);
    expect(
      checkSource('packages/relay/src/index.ts', "const m = await import('../../../subgraphs/orders/src/service.ts');"),
    ).toHaveLength(1);
    expect(checkSource('packages/testing/src/x.ts', "import { startGateway } from '@trellis/gateway';")).toHaveLength(
      1,
    );
  });

  it('allows shared packages and a subgraph’s own files', () => {
    const source = `import { createSubgraph } from '@trellis/subgraph-kit';\nimport { schema } from './db/schema.ts';`;
    expect(checkSource('subgraphs/reviews/src/service.ts', source)).toEqual([]);
  });

  it('keeps browser clients off workspace code: only their own files and npm packages', () => {
    const own = `import { graphql } from './generated/gql.ts';\nimport { defineConfig } from 'vite';`;
    expect(checkSource('clients/storefront/src/operations.ts', own)).toEqual([]);
    const server = `import { ErrorCode } from '@trellis/errors';\nimport { sha256 } from '../../../gateway/src/trusted-documents.ts';`;
    expect(checkSource('clients/storefront/src/errors.ts', server).map((v) => v.specifier)).toEqual([
      '@trellis/errors',
      '../../../gateway/src/trusted-documents.ts',
    ]);
  });
});
