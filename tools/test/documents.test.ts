// Trusted documents for clients: extraction, validation against the supergraph, staleness.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiSchemaOf } from '@trellis/composition/changes';
import { describe, expect, it } from 'vitest';
import { buildManifest, collectSources } from '../src/documents.ts';
import { ROOT } from '../src/workspace.ts';

const schema = apiSchemaOf(readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'));

describe('documents:extract', () => {
  it('keeps the storefront manifest up to date and every operation valid', () => {
    const { manifest, problems } = buildManifest(collectSources([join(ROOT, 'clients/storefront')]), schema);
    expect(problems).toEqual([]);
    expect(manifest.operations.map((o) => o.name)).toEqual(['AddReview', 'Catalogue', 'PlaceOrder', 'ProductPage']);
    const committed = readFileSync(join(ROOT, 'clients/storefront/persisted-operations.json'), 'utf8');
    expect(`${JSON.stringify(manifest, null, 2)}\n`).toBe(committed);
  });

  it('includes the fragments an operation uses, and ids are the sha256 of the body', async () => {
    const { manifest } = buildManifest(collectSources([join(ROOT, 'clients/storefront')]), schema);
    const catalogue = manifest.operations.find((o) => o.name === 'Catalogue')!;
    expect(catalogue.body).toContain('fragment ProductCard on Product');
    const { createHash } = await import('node:crypto');
    expect(catalogue.id).toBe(createHash('sha256').update(catalogue.body).digest('hex'));
  });

  it('fails an operation that no longer validates against the supergraph, naming it and the field', () => {
    const { problems } = buildManifest(
      [{ file: join(ROOT, 'clients/x/old.graphql'), text: 'query Old { product(id: "1") { sku } }' }],
      schema,
    );
    expect(problems).toEqual(['clients/x/old.graphql: operation Old: Cannot query field "sku" on type "Product".']);
  });

  it('refuses anonymous operations and two different bodies under one name', () => {
    const { problems } = buildManifest(
      [
        { file: join(ROOT, 'a.graphql'), text: '{ product(id: "1") { id } }' },
        { file: join(ROOT, 'b.graphql'), text: 'query Same { product(id: "1") { id } }' },
        { file: join(ROOT, 'c.graphql'), text: 'query Same { product(id: "2") { id } }' },
      ],
      schema,
    );
    expect(problems).toEqual([
      'a.graphql: operations must be named',
      'c.graphql: operation Same is defined twice with different bodies',
    ]);
  });
});
