// Tables of the reviews subgraph, in Postgres schema `reviews`. Pure: no connection.
import { cacheOutboxTable } from '@trellis/cache/outbox';
import { processedMessagesTable } from '@trellis/jobs/schema';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  pgSchema,
  real,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

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
    /** Set by the enrich-review job: AFINN sentiment in [-1, 1] (null before enrichment). */
    sentiment: real('sentiment'),
    /** Set by the enrich-review job: most frequent non-stopwords. */
    keywords: text('keywords').array(),
    /** When the review was enriched and counted in product_ratings; null until then. */
    enrichedAt: timestamp('enriched_at', { withTimezone: true, mode: 'date' }),
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

/**
 * Rating aggregates per product, maintained by the enrich-review job (one row per product
 * with at least one enriched review): Product.averageRating/reviewCount read one row by key.
 */
export const productRatings = reviewsSchema.table(
  'product_ratings',
  {
    productId: bigint('product_id', { mode: 'number' }).primaryKey(),
    reviewCount: integer('review_count').notNull(),
    ratingSum: integer('rating_sum').notNull(),
    /** Sum of sentiment over the counted reviews that have one (pre-enrichment rows have none). */
    sentimentSum: doublePrecision('sentiment_sum').notNull().default(0),
    sentimentCount: integer('sentiment_count').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // Covering: a page of products reads its aggregates with an index-only scan.
  (t) => [
    index('product_ratings_product_aggregates_idx').on(
      t.productId,
      t.reviewCount,
      t.ratingSum,
      t.sentimentSum,
      t.sentimentCount,
    ),
  ],
);

export type ProductRatingRow = typeof productRatings.$inferSelect;

/** An entity owned by another subgraph, by key (Product, User). */
export interface EntityRef {
  id: string;
}

/** Jobs handled (enrich-review): written with each side effect so a re-run skips it. */
export const processedMessages = processedMessagesTable(reviewsSchema);

/** Cache invalidations this subgraph's writes commit (published by the relay, see @trellis/cache/outbox). */
export const cacheOutbox = cacheOutboxTable(reviewsSchema);

export const schema = { reviews, productRatings, processedMessages, cacheOutbox };
