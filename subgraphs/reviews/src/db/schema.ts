// Tables of the reviews subgraph, in Postgres schema `reviews`. Pure: no connection.

import { cacheOutboxTable } from '@trellis/cache/outbox';
import { sql } from 'drizzle-orm';
import { bigint, check, index, pgSchema, smallint, text, timestamp } from 'drizzle-orm/pg-core';

export const reviewsSchema = pgSchema('reviews');

export const reviews = reviewsSchema.table(
  'reviews',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    productId: bigint('product_id', { mode: 'number' }).notNull(),
    authorId: bigint('author_id', { mode: 'number' }).notNull(),
    rating: smallint('rating').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // Nested connections page per parent on (parent, order key, id); the rating index also
  // serves the aggregates (count, avg) as an index-only scan.
  (t) => [
    check('reviews_rating_range', sql`${t.rating} between 1 and 5`),
    index('reviews_product_created_at_id_idx').on(t.productId, t.createdAt, t.id),
    index('reviews_product_rating_id_idx').on(t.productId, t.rating, t.id),
    index('reviews_author_created_at_id_idx').on(t.authorId, t.createdAt, t.id),
    index('reviews_author_rating_id_idx').on(t.authorId, t.rating, t.id),
    // Query.reviews: the whole table, by time or by rating (a rating filter uses the second).
    index('reviews_created_at_id_idx').on(t.createdAt, t.id),
    index('reviews_rating_id_idx').on(t.rating, t.id),
    index('reviews_rating_created_at_id_idx').on(t.rating, t.createdAt, t.id),
  ],
);

export type ReviewRow = typeof reviews.$inferSelect;

/** An entity owned by another subgraph, by key (Product, User). */
export interface EntityRef {
  id: string;
}

/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(reviewsSchema);

export const schema = { reviews, cacheOutbox };
