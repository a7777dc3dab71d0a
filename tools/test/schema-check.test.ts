// Breaking-change detection against a base revision, on a throwaway git repository.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACK_FILE, checkSchemas } from '../src/schema-check.ts';
import { ROOT } from '../src/workspace.ts';
import { type SchemaRepository, schemaRepository } from './support/schema-repository.ts';

let repo: SchemaRepository | undefined;
let dir: string;
afterEach(() => {
  repo?.remove();
  repo = undefined;
});

/** A repository holding the subgraph SDLs and their supergraph, committed once. */
function repository(): string {
  repo = schemaRepository();
  dir = repo.dir;
  return dir;
}

const compose = () => repo!.compose();
const edit = (subgraph: string, from: string, to: string) => repo!.edit(subgraph, from, to);

describe('schema:check', () => {
  it('finds nothing when nothing changed', () => {
    repository();
    expect(checkSchemas(dir, 'HEAD', compose())).toMatchObject({ changes: [], unacknowledged: [] });
  });

  it('reports a removed field in the supergraph and the subgraph, readably, and fails until acknowledged', () => {
    repository();
    edit('products', '  "Shipping weight in kilograms."\n  weight: Float!\n', '');
    edit('inventory', '  "From the products subgraph; needed for shippingEstimate."\n  weight: Float! @external\n', '');
    edit('inventory', '@requires(fields: "price weight")', '@requires(fields: "price")');
    const result = checkSchemas(dir, 'HEAD', compose());
    const lines = result.unacknowledged.map((c) => `${c.scope}: ${c.type} ${c.description} — ${c.why}`);
    expect(lines).toContain(
      'supergraph: FIELD_REMOVED Product.weight was removed. — operations selecting the field stop validating',
    );
    expect(lines).toContain(
      'subgraph products: FIELD_REMOVED Product.weight was removed. — operations selecting the field stop validating',
    );
    writeFileSync(
      join(dir, ACK_FILE),
      `# intended: weight moves to shipping\n${result.unacknowledged.map((c) => `${c.scope}: ${c.type} ${c.description}`).join('\n')}\n`,
    );
    expect(checkSchemas(dir, 'HEAD', compose()).unacknowledged).toEqual([]);
  });

  it('reports dangerous changes without failing', () => {
    repository();
    edit('orders', '  CANCELLED\n}', '  CANCELLED\n  REFUNDED\n}');
    const result = checkSchemas(dir, 'HEAD', compose());
    expect(result.unacknowledged).toEqual([]);
    expect(result.changes).toContainEqual(
      expect.objectContaining({ scope: 'supergraph', severity: 'dangerous', type: 'VALUE_ADDED_TO_ENUM' }),
    );
  });

  it('flags a new required argument and a nullability change as breaking', () => {
    repository();
    edit('accounts', 'user(id: ID!): User', 'user(id: ID!, tenant: String!): User');
    edit('accounts', '  name: String!\n  username', '  name: String\n  username');
    const types = checkSchemas(dir, 'HEAD', compose())
      .unacknowledged.filter((c) => c.scope === 'supergraph')
      .map((c) => c.type);
    expect(types).toEqual(expect.arrayContaining(['REQUIRED_ARG_ADDED', 'FIELD_CHANGED_KIND']));
  });
});

// Keep the real repository's check honest too: composition works and HEAD against itself is clean.
describe('schema:check on this repository', () => {
  it('has no changes against HEAD', () => {
    const supergraph = readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8');
    expect(checkSchemas(ROOT, 'HEAD', supergraph).unacknowledged).toEqual([]);
  });
});
