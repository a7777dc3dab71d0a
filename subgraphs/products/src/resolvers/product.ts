// The Product entity as the catalogue owns it.
import { parseId } from '@trellis/subgraph-kit';
import type { ProductResolvers } from '../generated/graphql.ts';

export const Product: ProductResolvers = {
  __resolveReference: (reference, { loaders }) => {
    const id = parseId(reference.id);
    return id === null ? null : loaders.productById.load(id);
  },
  id: (row) => String(row.id),
  price: (row) => row.priceCents / 100,
  weight: (row) => row.weightGrams / 1000,
};
