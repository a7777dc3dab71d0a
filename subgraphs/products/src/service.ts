// The products subgraph: the catalogue (Product, Query.products, Query.product).
import { defineSubgraph } from '@trellis/subgraph-kit';
import { schema } from './db/schema.ts';
import { seedProducts } from './db/seed.ts';
import { createLoaders } from './loaders.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Product } from './resolvers/product.ts';
import { Query } from './resolvers/query.ts';

export const subgraph = defineSubgraph({
  module: import.meta.url,
  resolvers: { Query, Mutation, Product },
  schema,
  outbox: schema.cacheOutbox,
  createLoaders,
  seed: seedProducts,
  seededTable: schema.products,
});
