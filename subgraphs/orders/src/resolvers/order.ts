// The Order entity and its lines.
import { referenceById } from '@trellis/subgraph-kit';
import type { OrderLineResolvers, OrderResolvers } from '../generated/graphql.ts';

export const Order: OrderResolvers = {
  __resolveReference: referenceById((loaders) => loaders.orderById),
  id: (row) => String(row.id),
  buyer: (row) => ({ id: String(row.buyerId) }),
  lines: (row, _args, { loaders }) => loaders.linesByOrderId.load(row.id),
  total: (row) => row.totalCents / 100,
  // The buyer's only, even when the order is reached as an entity.
  invoice: (row, _args, { loaders, viewer }) =>
    viewer.userId === String(row.buyerId) ? loaders.invoiceByOrderId.load(row.id) : null,
};

export const OrderLine: OrderLineResolvers = {
  product: (line) => ({ id: String(line.productId) }),
  unitPrice: (line) => line.unitPriceCents / 100,
};
