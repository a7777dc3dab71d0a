// Product as inventory extends it: stock and shipping.
import { parseId } from '@trellis/subgraph-kit';
import type { ProductResolvers } from '../generated/graphql.ts';
import type { Context } from '../loaders.ts';

/** Free shipping from $100; otherwise $4.99 plus $2.50 per started kilogram. */
export function shippingEstimate(price: number, weightKg: number): number {
  if (price >= 100) return 0;
  return Math.round((4.99 + Math.ceil(weightKg) * 2.5) * 100) / 100;
}

function quantity(id: string, loaders: Context['loaders']) {
  const key = parseId(id);
  return key === null ? 0 : loaders.quantityByProductId.load(key);
}

export const Product: ProductResolvers = {
  // Stock is loaded lazily by the fields below, batched across the whole request.
  __resolveReference: (reference) => reference,
  quantity: (product, _args, { loaders }) => quantity(product.id, loaders),
  inStock: async (product, _args, { loaders }) => (await quantity(product.id, loaders)) > 0,
  shippingEstimate: (product) => shippingEstimate(product.price ?? 0, product.weight ?? 0),
};
