// The subgraph side of the cache-tag format: the entity-tags plugin on a real Apollo subgraph
// reports what it resolved; the gateway's tags for that report (addReportTags) are matched by
// the invalidation of each entity (tagsToPurge), overflow included.
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { addReportTags, type EntityReport, tagsToPurge } from '@trellis/cache/tags';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createEntityTagsPlugin } from './entity-tags.ts';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Product @key(fields: "id") { id: ID! name: String! }
  type Query { products(ids: [ID!]!): [Product!]! }
`);

async function reported(ids: string[], maxEntities?: number): Promise<EntityReport | undefined> {
  const server = new ApolloServer({
    schema: buildSubgraphSchema([
      {
        typeDefs,
        resolvers: {
          Query: { products: (_: unknown, args: { ids: string[] }) => args.ids.map((id) => ({ id, name: `P${id}` })) },
        },
      },
    ]),
    plugins: [createEntityTagsPlugin({ typeDefs, ...(maxEntities ? { maxEntities } : {}) })],
  });
  await server.start();
  try {
    const response = await server.executeOperation({
      query: 'query ($ids: [ID!]!) { products(ids: $ids) { id name } }',
      variables: { ids },
    });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    expect(response.body.singleResult.errors).toBeUndefined();
    return response.body.singleResult.extensions?.trellis as EntityReport | undefined;
  } finally {
    await server.stop();
  }
}

const entryTags = (report: EntityReport | undefined) => {
  const tags = new Set<string>();
  if (report) addReportTags(JSON.parse(JSON.stringify(report)), tags);
  return tags;
};
const invalidates = (entry: Set<string>, id: string) =>
  tagsToPurge({ entities: [{ typename: 'Product', id }] }).some((tag) => entry.has(tag));

describe('entity tags, subgraph to invalidation', () => {
  it('each resolved entity is reported so that its invalidation matches the entry', async () => {
    const report = await reported(['1', '2']);
    expect(report).toEqual({ entities: ['Product:1', 'Product:2'] });
    const entry = entryTags(report);
    expect(invalidates(entry, '1')).toBe(true);
    expect(invalidates(entry, '2')).toBe(true);
    expect(invalidates(entry, '3')).toBe(false);
  });

  it('past maxEntities the type overflows, and any of its entities invalidates the entry', async () => {
    const report = await reported(['1', '2', '3'], 2);
    expect(report).toEqual({ entities: ['Product:1', 'Product:2'], overflow: ['Product'] });
    const entry = entryTags(report);
    expect(invalidates(entry, '3')).toBe(true);
    expect(invalidates(entry, '999')).toBe(true);
  });
});
