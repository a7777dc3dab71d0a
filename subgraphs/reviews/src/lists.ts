// Review lists: the ordering and filter every review connection shares, and the batched
// loading of pages for many parents (products or authors) in one statement.
import type { Database } from '@trellis/db';
import { badUserInput } from '@trellis/errors';
import {
  type ConnectionArgs,
  connectionsByParent,
  defineOrderings,
  lateralPageQuery,
  parsePageRequest,
} from '@trellis/relay';
import { and, count, eq, gte, inArray, type SQL } from 'drizzle-orm';
import { type ReviewRow, reviews, type schema } from './db/schema.ts';
import type { ReviewFilter, ReviewOrder } from './generated/graphql.ts';

export const reviewOrdering = defineOrderings<ReviewRow, 'CREATED_AT' | 'RATING'>({
  fields: {
    CREATED_AT: { column: reviews.createdAt, type: 'date', value: (row) => row.createdAt },
    RATING: { column: reviews.rating, type: 'number', value: (row) => row.rating },
  },
  idColumn: reviews.id,
  id: (row) => row.id,
  default: { field: 'CREATED_AT', direction: 'DESC' },
});

function checkRating(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 5) {
    throw badUserInput(`"filter.${name}" must be an integer from 1 to 5`, ['filter', name]);
  }
  return value;
}

export function reviewFilter(filter: ReviewFilter | null | undefined): SQL | undefined {
  if (!filter) return undefined;
  return and(
    filter.rating != null ? eq(reviews.rating, checkRating(filter.rating, 'rating')) : undefined,
    filter.minRating != null ? gte(reviews.rating, checkRating(filter.minRating, 'minRating')) : undefined,
  );
}

export type ReviewListArgs = ConnectionArgs & { filter?: ReviewFilter | null; orderBy?: ReviewOrder | null };

/** Validates the arguments of a review connection up front (typed errors, no SQL). */
export function checkReviewListArgs(args: ReviewListArgs): void {
  reviewFilter(args.filter);
  parsePageRequest(args, reviewOrdering(args.orderBy));
}

type RawReview = {
  __parent: string;
  id: string;
  product_id: string;
  author_id: string;
  rating: number;
  body: string;
  /** Raw statements return timestamps as text through Drizzle's driver setup. */
  created_at: string;
  sentiment: number | string | null;
  keywords: string[] | null;
  enriched_at: string | null;
};

/** The columns a review list can hang from. */
type ParentColumn = typeof reviews.productId | typeof reviews.authorId;

/** Pages of reviews for many parents (by `parentColumn`), one statement for all. */
export function reviewPagesBy(database: Database<typeof schema>, parentColumn: ParentColumn) {
  return async (parentIds: readonly number[], args: ReviewListArgs) => {
    const ordering = reviewOrdering(args.orderBy);
    const page = parsePageRequest(args, ordering);
    const filter = reviewFilter(args.filter);
    const raw = await database.db.execute<RawReview>(
      lateralPageQuery({ parentIds, table: reviews, parentColumn, filter, ordering, page }),
    );
    const rows = raw.map((r) => ({
      parentId: Number(r.__parent),
      id: Number(r.id),
      productId: Number(r.product_id),
      authorId: Number(r.author_id),
      rating: r.rating,
      body: r.body,
      createdAt: new Date(r.created_at),
      sentiment: r.sentiment === null ? null : Number(r.sentiment),
      keywords: r.keywords,
      enrichedAt: r.enriched_at === null ? null : new Date(r.enriched_at),
    }));
    const counts = countsBy(database, parentColumn, filter, parentIds);
    return connectionsByParent(parentIds, rows, ordering, page, async (id) => (await counts()).get(id) ?? 0);
  };
}

/** Lazily counts matching reviews per parent (one statement, only if totalCount is selected). */
function countsBy(
  { db }: Database<typeof schema>,
  parentColumn: ParentColumn,
  filter: SQL | undefined,
  parentIds: readonly number[],
): () => Promise<Map<number, number>> {
  let pending: Promise<Map<number, number>> | undefined;
  return () => {
    pending ??= db
      .select({ parentId: parentColumn, n: count() })
      .from(reviews)
      .where(and(inArray(parentColumn, parentIds as number[]), filter))
      .groupBy(parentColumn)
      .then((rows) => new Map(rows.map((row): [number, number] => [Number(row.parentId), row.n])));
    return pending;
  };
}
