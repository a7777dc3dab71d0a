// Review lists: the ordering and filter every review connection shares, and the batched
// loading of pages for many parents (products or authors) in one statement.
import type { Database } from '@trellis/db';
import { badUserInput } from '@trellis/errors';
import { type ConnectionArgs, defineOrderings, lateralConnections, parsePageRequest } from '@trellis/relay';
import { and, eq, gte, type SQL } from 'drizzle-orm';
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

/** The columns a review list can hang from. */
type ParentColumn = typeof reviews.productId | typeof reviews.authorId;

/** Pages of reviews for many parents (by `parentColumn`), one statement for all. */
export function reviewPagesBy({ db }: Database<typeof schema>, parentColumn: ParentColumn) {
  return (parentIds: readonly number[], args: ReviewListArgs) => {
    const ordering = reviewOrdering(args.orderBy);
    const page = parsePageRequest(args, ordering);
    const filter = reviewFilter(args.filter);
    return lateralConnections({ db, table: reviews, parentColumn, parentIds, filter, ordering, page });
  };
}
