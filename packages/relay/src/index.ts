// Relay Cursor Connections for every list field: argument validation, opaque versioned
// signed cursors, keyset conditions on (order key, id), and connection assembly.
// Never OFFSET: a page costs the same at depth 10,000 as at depth 1.
import { badUserInput } from '@trellis/errors';
import { sign, verify } from '@trellis/signing';
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const CURSOR_VERSION = 1;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export type Direction = 'ASC' | 'DESC';
export type SortValue = number | string | Date;
export type SortType = 'number' | 'string' | 'date';

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** A function, so graphql-js only runs the count when `totalCount` is selected. */
  totalCount: () => Promise<number> | number;
}

/** The sort of one list: a column, its direction and its value type; ties broken by id. */
export interface Ordering<T> {
  /** Stable name of the ordering, embedded in cursors (e.g. `PRICE:ASC`). */
  key: string;
  column: AnyColumn;
  direction: Direction;
  type: SortType;
  idColumn: AnyColumn;
  /** Reads the sort value and the id of a fetched row (to build its cursor). */
  value: (row: T) => SortValue;
  id: (row: T) => number;
}

/** One orderable field of a list: its column, value type and reader. */
export interface OrderField<T> {
  column: AnyColumn;
  type: SortType;
  value: (row: T) => SortValue;
}

/**
 * The orderings a list offers, resolved from its `orderBy: { field, direction }` input.
 * Every list in every subgraph uses the same input shape.
 */
export function defineOrderings<T, F extends string>(config: {
  fields: Record<F, OrderField<T>>;
  idColumn: AnyColumn;
  id: (row: T) => number;
  default: { field: F; direction: Direction };
}): (orderBy?: { field: F; direction: Direction } | null) => Ordering<T> {
  return (orderBy) => {
    const { field, direction } = orderBy ?? config.default;
    const spec = config.fields[field];
    if (!spec) throw badUserInput(`Unknown order field ${String(field)}`, ['orderBy', 'field']);
    return {
      key: `${field}:${direction}`,
      column: spec.column,
      type: spec.type,
      value: spec.value,
      direction,
      idColumn: config.idColumn,
      id: config.id,
    };
  };
}

export interface PageRequest {
  /** `forward` for first/after, `backward` for last/before. */
  travel: 'forward' | 'backward';
  size: number;
  /** Decoded `after` (forward) or `before` (backward). */
  cursor: { value: SortValue; id: number } | null;
}

// Cursors are signed so that an edited one is rejected before it is even parsed. The key is
// a constant on purpose: cursors are not secrets (every value is validated again below), the
// signature only has to be stable across replicas and releases.
const CURSOR_KEY = 'trellis-cursor-v1';

/** The signature's wire format: the first 12 characters of the base64url HMAC-SHA256. */
const CURSOR_SIGNATURE = { encoding: 'base64url', length: 12 } as const;

export function encodeCursor(orderingKey: string, value: SortValue, id: number | string): string {
  const wireValue = value instanceof Date ? value.toISOString() : value;
  const payload = Buffer.from(JSON.stringify([CURSOR_VERSION, orderingKey, wireValue, Number(id)])).toString(
    'base64url',
  );
  return `${payload}.${sign(CURSOR_KEY, payload, CURSOR_SIGNATURE)}`;
}

/** Decodes and validates a cursor; any defect is BAD_USER_INPUT naming the argument. */
export function decodeCursor(
  cursor: string,
  ordering: Pick<Ordering<unknown>, 'key' | 'type'>,
  argumentName: string,
): { value: SortValue; id: number } {
  const invalid = (why: string) => badUserInput(`Invalid cursor in "${argumentName}": ${why}`, [argumentName]);
  if (cursor.length > 512) throw invalid('too long');
  const [payload, signature, extra] = cursor.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid('malformed');
  if (!verify(CURSOR_KEY, payload, signature, CURSOR_SIGNATURE)) {
    throw invalid('signature does not match (was it modified?)');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid('malformed');
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) throw invalid('malformed');
  const [version, key, rawValue, id] = decoded as unknown[];
  if (version !== CURSOR_VERSION) throw invalid(`unsupported version ${String(version)}`);
  if (key !== ordering.key) {
    throw invalid(`it was issued for ordering ${String(key)}, not ${ordering.key}; restart pagination`);
  }
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw invalid('malformed');
  return { value: parseSortValue(rawValue, ordering.type, invalid), id };
}

function parseSortValue(raw: unknown, type: SortType, invalid: (why: string) => Error): SortValue {
  switch (type) {
    case 'number':
      if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
      break;
    case 'string':
      if (typeof raw === 'string' && raw.length <= 1000) return raw;
      break;
    case 'date':
      if (typeof raw === 'string') {
        const date = new Date(raw);
        if (!Number.isNaN(date.getTime())) return date;
      }
      break;
  }
  throw invalid('malformed');
}

function checkSize(value: number | null | undefined, name: string, max: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw badUserInput(`"${name}" must be a non-negative integer`, [name]);
  if (value > max) throw badUserInput(`"${name}" must not exceed ${max} (got ${value})`, [name]);
  return value;
}

/** Validates connection arguments against the spec and our limits. */
export function parsePageRequest(
  args: ConnectionArgs,
  ordering: Pick<Ordering<unknown>, 'key' | 'type'>,
  options: { defaultSize?: number; maxSize?: number } = {},
): PageRequest {
  const max = options.maxSize ?? MAX_PAGE_SIZE;
  const first = checkSize(args.first, 'first', max);
  const last = checkSize(args.last, 'last', max);
  if (first !== undefined && last !== undefined) {
    throw badUserInput('Pass either "first" or "last", not both', ['last']);
  }
  if (last !== undefined || (first === undefined && args.before != null)) {
    if (args.after != null) throw badUserInput('"after" cannot be combined with "last"; use "before"', ['after']);
    const cursor = args.before != null ? decodeCursor(args.before, ordering, 'before') : null;
    return { travel: 'backward', size: last ?? options.defaultSize ?? DEFAULT_PAGE_SIZE, cursor };
  }
  if (args.before != null) throw badUserInput('"before" cannot be combined with "first"; use "after"', ['before']);
  const cursor = args.after != null ? decodeCursor(args.after, ordering, 'after') : null;
  return { travel: 'forward', size: first ?? options.defaultSize ?? DEFAULT_PAGE_SIZE, cursor };
}

/** `ASC`/`DESC` of the SQL scan: reversed when travelling backward. */
function scanDirection(ordering: Ordering<unknown>, page: PageRequest): Direction {
  if (page.travel === 'forward') return ordering.direction;
  return ordering.direction === 'ASC' ? 'DESC' : 'ASC';
}

/** Keyset condition `(key, id) > (cursor)` (or `<`), or undefined without a cursor. */
export function keysetCondition<T>(ordering: Ordering<T>, page: PageRequest): SQL | undefined {
  if (!page.cursor) return undefined;
  const op = scanDirection(ordering as Ordering<unknown>, page) === 'ASC' ? sql.raw('>') : sql.raw('<');
  // Bound to the columns so Drizzle encodes them as it would in a where clause (dates!).
  const value = sql.param(page.cursor.value, ordering.column);
  const id = sql.param(page.cursor.id, ordering.idColumn);
  return sql`(${ordering.column}, ${ordering.idColumn}) ${op} (${value}, ${id})`;
}

/** ORDER BY for the scan (key then id, both in the scan direction). */
export function keysetOrder<T>(ordering: Ordering<T>, page: PageRequest): SQL[] {
  const dir = sql.raw(scanDirection(ordering as Ordering<unknown>, page));
  return [sql`${ordering.column} ${dir}`, sql`${ordering.idColumn} ${dir}`];
}

/** Rows to fetch: one more than the page, to know whether another page follows. */
export function keysetLimit(page: PageRequest): number {
  return page.size + 1;
}

/**
 * Builds the connection from rows fetched with keysetOrder/keysetLimit (scan order).
 * `totalCount` runs only if the client selects it.
 */
export function toConnection<T>(
  rows: T[],
  ordering: Ordering<T>,
  page: PageRequest,
  totalCount: () => Promise<number> | number,
): Connection<T> {
  const hasMore = rows.length > page.size;
  const pageRows = hasMore ? rows.slice(0, page.size) : rows.slice();
  if (page.travel === 'backward') pageRows.reverse();
  const edges = pageRows.map((node) => ({
    cursor: encodeCursor(ordering.key, ordering.value(node), ordering.id(node)),
    node,
  }));
  const forward = page.travel === 'forward';
  return {
    edges,
    pageInfo: {
      // Exact in the direction of travel; the other side is "a cursor was given", which is
      // what the Relay spec allows when it cannot be computed cheaply.
      hasNextPage: forward ? hasMore : page.cursor !== null,
      hasPreviousPage: forward ? page.cursor !== null : hasMore,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/** A connection with no edges (e.g. for a parent whose id cannot exist). */
export function emptyConnection<T>(): Connection<T> {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    totalCount: () => 0,
  };
}

/** The pieces of a keyset query, for subgraphs that build their own statement. */
export interface KeysetQuery {
  /** Cursor condition, to AND with the list's filters (undefined on the first page). */
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number;
}

export function keysetQuery<T>(ordering: Ordering<T>, page: PageRequest): KeysetQuery {
  return { where: keysetCondition(ordering, page), orderBy: keysetOrder(ordering, page), limit: keysetLimit(page) };
}

/**
 * One page of a top-level list: validates the arguments, runs `fetch` with the keyset
 * pieces, and assembles the connection.
 */
export async function paginate<T>(
  args: ConnectionArgs,
  ordering: Ordering<T>,
  fetch: (query: KeysetQuery) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Connection<T>> {
  const page = parsePageRequest(args, ordering);
  const rows = await fetch(keysetQuery(ordering, page));
  return toConnection(rows, ordering, page, count);
}

/** What generated resolver types map every `*Connection` GraphQL type to. */
export type AnyConnection = Connection<unknown>;

export {
  argsKey,
  connectionsByParent,
  lateralConnections,
  lateralPageQuery,
  nestedConnectionLoaders,
} from './nested.ts';
