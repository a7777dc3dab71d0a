// Order lists: ordering, filter and batched pages per buyer (User.orders).
import type { Database } from '@trellis/db';
import { badUserInput } from '@trellis/errors';
import {
  type ConnectionArgs,
  connectionsByParent,
  defineOrderings,
  lateralPageQuery,
  parsePageRequest,
} from '@trellis/relay';
import { and, count, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
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

type RawOrder = {
  __parent: string;
  id: string;
  buyer_id: string;
  status: OrderRow['status'];
  total_cents: number;
  idempotency_key: string | null;
  request_hash: string | null;
  /** Raw statements return timestamps as text through Drizzle's driver setup. */
  created_at: string;
};

/** Pages of orders for many buyers in one statement. */
export function orderPagesByBuyer(database: Database<typeof schema>) {
  const { db } = database;
  return async (buyerIds: readonly number[], args: OrderListArgs) => {
    const ordering = orderOrdering(args.orderBy);
    const page = parsePageRequest(args, ordering);
    const filter = orderFilter(args.filter);
    const raw = await db.execute<RawOrder>(
      lateralPageQuery({ parentIds: buyerIds, table: orders, parentColumn: orders.buyerId, filter, ordering, page }),
    );
    const rows = raw.map((r) => ({
      parentId: Number(r.__parent),
      id: Number(r.id),
      buyerId: Number(r.buyer_id),
      status: r.status,
      totalCents: r.total_cents,
      createdAt: new Date(r.created_at),
      idempotencyKey: r.idempotency_key ?? null,
      requestHash: r.request_hash ?? null,
    }));
    let counts: Promise<Map<number, number>> | undefined;
    const countFor = async (buyerId: number) => {
      counts ??= db
        .select({ buyerId: orders.buyerId, n: count() })
        .from(orders)
        .where(and(inArray(orders.buyerId, buyerIds as number[]), filter))
        .groupBy(orders.buyerId)
        .then((list) => new Map(list.map((row): [number, number] => [row.buyerId, row.n])));
      return (await counts).get(buyerId) ?? 0;
    };
    return connectionsByParent(buyerIds, rows, ordering, page, countFor);
  };
}
