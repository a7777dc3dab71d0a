// The cache-tag format, both sides: what a subgraph reports (EntityReportBuilder), the tags the
// gateway stores an entry under (addReportTags) and the tags an invalidation drops
// (tagsToPurge) must meet — for named entities and for overflowing types.
import { describe, expect, it } from 'vitest';
import { addReportTags, EntityReportBuilder, entityTag, overflowTag, tagsToPurge, typeTag } from './tags.ts';

/** The entry tags a response reporting `resolved` entities gets, with `max` entities named at most. */
function entryTags(resolved: [string, string][], max = 500): Set<string> {
  const builder = new EntityReportBuilder(max);
  for (const [typename, id] of resolved) builder.add(typename, id);
  const report = JSON.parse(JSON.stringify(builder.report())); // as it crosses the wire
  const tags = new Set<string>();
  addReportTags(report, tags);
  return tags;
}

const hits = (entry: Set<string>, purge: string[]) => purge.some((tag) => entry.has(tag));

describe('cache tags', () => {
  it('a named entity is matched by its invalidation, and only by it or a purge of its type', () => {
    const entry = entryTags([
      ['Product', '1'],
      ['User', '7'],
      ['Product', '1'],
    ]);
    expect(entry).toEqual(new Set(['Product:1', 'Product', 'User:7', 'User']));
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'Product', id: '1' }] }))).toBe(true);
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'User', id: '7' }] }))).toBe(true);
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'Product', id: '2' }] }))).toBe(false);
    expect(hits(entry, tagsToPurge({ entities: [], types: ['Product'] }))).toBe(true);
    expect(hits(entry, tagsToPurge({ entities: [], types: ['Review'] }))).toBe(false);
  });

  it('past the bound a type overflows: any entity of it invalidates the entry', () => {
    const entry = entryTags(
      [
        ['Product', '1'],
        ['Product', '2'],
        ['Product', '3'],
        ['User', '7'],
      ],
      1,
    );
    expect(entry).toEqual(new Set(['Product:1', 'Product', 'Product:*', 'User', 'User:*']));
    // Product 3 was never named, yet its write must drop the entry.
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'Product', id: '3' }] }))).toBe(true);
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'User', id: '99' }] }))).toBe(true);
    expect(hits(entry, tagsToPurge({ entities: [{ typename: 'Review', id: '1' }] }))).toBe(false);
  });

  it('spells Type:id, Type and Type:*; reports nothing for a response without entities', () => {
    expect([entityTag('Product', '1'), typeTag('Product'), overflowTag('Product')]).toEqual([
      'Product:1',
      'Product',
      'Product:*',
    ]);
    expect(new EntityReportBuilder(10).report()).toBeUndefined();
    const tags = new Set<string>();
    addReportTags({ entities: ['Product:1', 42, 'nocolon'], overflow: [null, 'User'] }, tags);
    expect(tags).toEqual(new Set(['Product:1', 'Product', 'nocolon', 'User', 'User:*']));
  });
});
