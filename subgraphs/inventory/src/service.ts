// The inventory subgraph: stock levels and shipping estimates for Product.
import { defineSubgraph } from '@trellis/subgraph-kit';
import { schema } from './db/schema.ts';
import { seedStock } from './db/seed.ts';
import { createLoaders } from './loaders.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Product } from './resolvers/product.ts';

export const subgraph = defineSubgraph({
  module: import.meta.url,
  resolvers: { Mutation, Product },
  schema,
  outbox: schema.cacheOutbox,
  createLoaders,
  seed: seedStock,
  seededTable: schema.stock,
});
