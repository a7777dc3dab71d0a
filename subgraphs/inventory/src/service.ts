// The inventory subgraph: stock levels and shipping estimates for Product.
import { fileURLToPath } from 'node:url';
import { defineSubgraph, loadTypeDefs } from '@trellis/subgraph-kit';
import { sql } from 'drizzle-orm';
import { schema } from './db/schema.ts';
import { seedStock } from './db/seed.ts';
import { createLoaders } from './loaders.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Product } from './resolvers/product.ts';

export const subgraph = defineSubgraph({
  name: 'inventory',
  defaultPort: 4003,
  typeDefs: loadTypeDefs(new URL('./schema.graphql', import.meta.url)),
  resolvers: { Mutation, Product },
  schema,
  outbox: schema.cacheOutbox,
  migrationsFolder: fileURLToPath(new URL('../migrations', import.meta.url)),
  createLoaders,
  seed: seedStock,
  isEmpty: async ({ db }) => (await db.execute(sql`select 1 from inventory.stock limit 1`)).length === 0,
});
