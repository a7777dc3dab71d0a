// Order lists: ordering, filter and batched pages per buyer (User.orders).
import type { Database } from '@trellis/db';
import { badUserInput } from '@trellis/errors';
import { type ConnectionArgs, defineOrderings, lateralConnections, parsePageRequest } from '@trellis/relay';
import { and, eq, gte, lt, type SQL } from 'drizzle-orm';
import { type OrderRow, orders, type schema } from './db/schema.ts';
import type { OrderFilter, OrderOrder } from './generated/graphql.ts';

export const orderOrdering = defineOrderings<OrderRow, 'CREATED_AT' | 'TOTAL'>({
  fields: {
    CREATED_AT: { column: orders.createdAt, type: 'date', value: (row) => row.createdAt },
    TOTAL: { column: orders.totalCents, type: 'number', value: (row) => row.totalCents },
  },
  idColumn: orders.id,
  id: (row) => row.id,
  default: { field: 'CREATED_AT', direction: 'DESC' },
});

function toDate(value: unknown, name: string): Date {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw badUserInput(`"filter.${name}" must be a date-time`, ['filter', name]);
  return date;
}

export function orderFilter(filter: OrderFilter | null | undefined): SQL | undefined {
  if (!filter) return undefined;
  return and(
    filter.status != null ? eq(orders.status, filter.status) : undefined,
    filter.createdAfter != null ? gte(orders.createdAt, toDate(filter.createdAfter, 'createdAfter')) : undefined,
    filter.createdBefore != null ? lt(orders.createdAt, toDate(filter.createdBefore, 'createdBefore')) : undefined,
  );
}

export type OrderListArgs = ConnectionArgs & { filter?: OrderFilter | null; orderBy?: OrderOrder | null };

export function checkOrderListArgs(args: OrderListArgs): void {
  orderFilter(args.filter);
  parsePageRequest(args, orderOrdering(args.orderBy));
}

/** Pages of orders for many buyers in one statement. */
export function orderPagesByBuyer({ db }: Database<typeof schema>) {
  return (buyerIds: readonly number[], args: OrderListArgs) => {
    const ordering = orderOrdering(args.orderBy);
    const page = parsePageRequest(args, ordering);
    const filter = orderFilter(args.filter);
    return lateralConnections({
      db,
      table: orders,
      parentColumn: orders.buyerId,
      parentIds: buyerIds,
      filter,
      ordering,
      page,
    });
  };
}
