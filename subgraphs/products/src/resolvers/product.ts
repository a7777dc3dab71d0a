// The Product entity as the catalogue owns it.
import { referenceById } from '@trellis/subgraph-kit';
import type { ProductResolvers } from '../generated/graphql.ts';

export const Product: ProductResolvers = {
  __resolveReference: referenceById((loaders) => loaders.productById),
  id: (row) => String(row.id),
  price: (row) => row.priceCents / 100,
  weight: (row) => row.weightGrams / 1000,
};
