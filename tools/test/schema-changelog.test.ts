// The API schema changelog: the committed one is current with the committed API schema, and
// a change to a subgraph's SDL is recorded as added / deprecated / removed / changed under
// the date and the subgraph that owns it.
import { readFileSync } from 'node:fs';
import { composeSupergraph } from '@trellis/composition';
import { describe, expect, it } from 'vitest';
import { API_SCHEMA_PATH, apiSchemaText, SUPERGRAPH_PATH } from '../src/compose.ts';
import {
  appendEntry,
  type Changelog,
  changelogItems,
  changelogProblem,
  renderChangelog,
  sha256,
} from '../src/schema-changelog.ts';
import { listSubgraphs } from '../src/workspace.ts';

function composeWith(edits: Record<string, [string, string][]>): string {
  return composeSupergraph(
    listSubgraphs().map((s) => {
      let sdl = readFileSync(s.schemaPath, 'utf8');
      for (const [from, to] of edits[s.name] ?? []) {
        expect(sdl).toContain(from);
        sdl = sdl.replace(from, to);
      }
      return { name: s.name, url: `http://127.0.0.1:${s.port}/graphql`, sdl };
    }),
  );
}

describe('schema changelog', () => {
  it('is in step with the committed API schema', () => {
    expect(changelogProblem(readFileSync(API_SCHEMA_PATH, 'utf8'))).toBeUndefined();
  });

  it('records removals, deprecations, additions and changes under the owning subgraph', async () => {
    const before = { api: readFileSync(API_SCHEMA_PATH, 'utf8'), supergraph: readFileSync(SUPERGRAPH_PATH, 'utf8') };
    const supergraph = composeWith({
      products: [
        ['  description: String!\n', ''],
        ['  weight: Float!\n', '  weight: Float! @deprecated(reason: "Use shippingEstimate.")\n  slug: String\n'],
      ],
      reviews: [['  body: String!\n  author: User!\n', '  body: String\n  author: User!\n']],
    });
    const after = { api: apiSchemaText(supergraph), supergraph };
    const items = await changelogItems(before, after);
    const summary = items.map((i) => [i.subgraph, i.kind, i.path, i.criticality]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['products', 'removed', 'Product.description', 'breaking'],
        ['products', 'deprecated', 'Product.weight', 'safe'],
        ['products', 'added', 'Product.slug', 'safe'],
        ['reviews', 'changed', 'Review.body', 'breaking'],
      ]),
    );

    const empty: Changelog = { apiSchemaSha256: '', entries: [] };
    const once = appendEntry(empty, '2026-12-05', items.slice(0, 1), after.api);
    const twice = appendEntry(once, '2026-12-05', items.slice(1), after.api);
    expect(twice.entries).toHaveLength(1);
    expect(twice.entries[0]?.items).toHaveLength(items.length);
    expect(twice.apiSchemaSha256).toBe(sha256(after.api));
    const text = renderChangelog(appendEntry(twice, '2026-12-06', [], after.api));
    expect(text).toMatch(/## 2026-12-05\n\n### products\n\n- removed \(\*\*breaking\*\*\): `Product\.description`/);
    expect(text).toContain('### reviews');
    expect(text).not.toContain('2026-12-06');
  });
});
