// Nested connections (Product.reviews for a page of products, User.orders): every parent's
// page in one statement (a lateral join), rows mapped back to the table's row type, one
// connection per parent, and per-request DataLoaders keyed by the connection's arguments.
import { batchLoader } from '@trellis/db/loaders';
import type DataLoader from 'dataloader';
import { type AnyColumn, and, count, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { type Connection, keysetQuery, type Ordering, type PageRequest, toConnection } from './index.ts';

/** Stable key for DataLoader batching of nested connections that share arguments. */
export function argsKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(argsKey).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${argsKey(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * One statement that loads a page of children for every parent (nested connections such
 * as Product.reviews for a page of products): `unnest(parents) CROSS JOIN LATERAL (… LIMIT)`.
 * Each parent's page is an index range scan on (parent, order key, id); rows come back in
 * scan order with the parent id in `__parent`.
 */
export function lateralPageQuery<T>(options: {
  parentIds: readonly number[];
  table: PgTable;
  parentColumn: AnyColumn;
  filter?: SQL | undefined;
  ordering: Ordering<T>;
  page: PageRequest;
}): SQL {
  const keyset = keysetQuery(options.ordering, options.page);
  const ids = sql.join(
    options.parentIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const conditions = [sql`${options.parentColumn} = parent.id`, options.filter, keyset.where].filter(
    (c): c is SQL => c !== undefined,
  );
  return sql`select parent.id as "__parent", page.* from unnest(array[${ids}]::bigint[]) as parent(id)
    cross join lateral (
      select * from ${options.table} where ${sql.join(conditions, sql` and `)}
      order by ${sql.join(keyset.orderBy, sql`, `)} limit ${keyset.limit}
    ) as page`;
}

/**
 * Nested connections batched per request: `forArgs(args)` returns one DataLoader per
 * distinct argument set, keyed by parent id, whose batch function loads every parent's page
 * in one statement (see lateralPageQuery). Build it in the context factory, per request.
 */
export function nestedConnectionLoaders<TArgs, T>(
  loadPages: (parentIds: readonly number[], args: TArgs) => Promise<Map<number, Connection<T>>>,
): (args: TArgs) => DataLoader<number, Connection<T>> {
  const byArgs = new Map<string, DataLoader<number, Connection<T>>>();
  return (args) => {
    const key = argsKey(args);
    let loader = byArgs.get(key);
    if (!loader) {
      loader = batchLoader<number, Connection<T>>(async (parentIds) => {
        const pages = await loadPages(parentIds, args);
        return parentIds.map((id) => pages.get(id) ?? new Error(`No page loaded for parent ${id}`));
      });
      byArgs.set(key, loader);
    }
    return loader;
  };
}

/** Groups rows of a lateralPageQuery by parent and builds each parent's connection. */
export function connectionsByParent<T>(
  parentIds: readonly number[],
  rows: readonly (T & { parentId: number })[],
  ordering: Ordering<T>,
  page: PageRequest,
  totalCount: (parentId: number) => Promise<number> | number,
): Map<number, Connection<T>> {
  const grouped = new Map<number, T[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) {
    const list = grouped.get(row.parentId);
    if (list) list.push(row);
    else grouped.set(row.parentId, [row]);
  }
  const result = new Map<number, Connection<T>>();
  for (const [parentId, list] of grouped) {
    result.set(
      parentId,
      toConnection(list, ordering, page, () => totalCount(parentId)),
    );
  }
  return result;
}

/**
 * Pages of `table`'s rows for many parents in one statement (lateralPageQuery), each raw row
 * mapped to the table's row type the way Drizzle reads its columns, and one connection per
 * parent. totalCount counts every parent's matches in one more statement, only if selected.
 */
export async function lateralConnections<TTable extends PgTable>(options: {
  // biome-ignore lint/suspicious/noExplicitAny: any subgraph's database
  db: PostgresJsDatabase<any>;
  table: TTable;
  parentColumn: PgColumn;
  parentIds: readonly number[];
  filter?: SQL | undefined;
  ordering: Ordering<TTable['$inferSelect']>;
  page: PageRequest;
}): Promise<Map<number, Connection<TTable['$inferSelect']>>> {
  const { db, table, parentColumn, parentIds, filter, ordering, page } = options;
  const raw = await db.execute<Record<string, unknown>>(
    lateralPageQuery({ parentIds, table, parentColumn, filter, ordering, page }),
  );
  const columns = Object.entries(getTableColumns(table));
  const rows = [...raw].map((r) => {
    const row: Record<string, unknown> = { parentId: Number(r.__parent) };
    for (const [key, column] of columns) {
      const value = r[column.name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as TTable['$inferSelect'] & { parentId: number };
  });
  let counts: Promise<Map<number, number>> | undefined;
  const countFor = async (parentId: number) => {
    counts ??= db
      .select({ parentId: parentColumn, n: count() })
      .from(table as PgTable)
      .where(and(inArray(parentColumn, parentIds as number[]), filter))
      .groupBy(parentColumn)
      .then((list) => new Map(list.map((entry): [number, number] => [Number(entry.parentId), entry.n])));
    return (await counts).get(parentId) ?? 0;
  };
  return connectionsByParent(parentIds, rows, ordering, page, countFor);
}
