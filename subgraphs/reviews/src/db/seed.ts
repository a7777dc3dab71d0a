// Deterministic reviews: plan.reviews rows spread over every product and user, ratings
// skewed positive as real catalogues are. One bulk statement; indexes built afterwards.
// Seeded reviews come enriched (the job's own analysis of each body) and counted in
// product_ratings, as if the enrich-review job had run for each.
import type { Database } from '@trellis/db';
import { hashMod, type SeedPlan, sqlTextArray } from '@trellis/db/seed';
import { analyzeReview } from '../jobs/analysis.ts';
import type { schema } from './schema.ts';

const BODIES: Record<number, string[]> = {
  1: ['Broke within a week.', 'Not as described, returned it.', 'Disappointing quality for the price.'],
  2: ['Works, but feels cheap.', 'Below expectations.', 'Shipping was slow and the finish is poor.'],
  3: ['Does the job.', 'Average, nothing special.', 'Fine for occasional use.'],
  4: ['Very good, would buy again.', 'Solid build and fair price.', 'Happy with it overall.'],
  5: ['Excellent, exceeded expectations!', 'Best purchase this year.', 'Flawless. Highly recommended.'],
};

export async function seedReviews({ sql }: Database<typeof schema>, plan: SeedPlan): Promise<void> {
  const groups = Object.values(BODIES);
  const bodies = `array[${groups.map(sqlTextArray).join(',')}]`;
  // The job's analysis of each body, in arrays of the same shape (keywords space-joined).
  const analyses = groups.map((group) => group.map(analyzeReview));
  const sentiments = `array[${analyses.map((g) => `array[${g.map((a) => a.sentiment).join(',')}]`).join(',')}]::real[]`;
  const keywords = `array[${analyses.map((g) => sqlTextArray(g.map((a) => a.keywords.join(' ')))).join(',')}]`;
  await sql.begin(async (tx) => {
    await tx`truncate reviews.reviews, reviews.product_ratings restart identity`;
    await tx.unsafe(`
      insert into reviews.reviews (id, product_id, author_id, rating, body, created_at, sentiment, keywords, enriched_at)
      select i, 1 + ${hashMod('i', 11, plan.products)}, 1 + ${hashMod('i', 12, plan.users)}, rating,
        (${bodies})[rating][k], created_at, (${sentiments})[rating][k],
        string_to_array((${keywords})[rating][k], ' '), created_at
      from generate_series(1, ${plan.reviews}) as i,
        lateral (select (array[1,2,3,3,4,4,4,5,5,5])[1 + ${hashMod('i', 13, 10)}] as rating,
          1 + ${hashMod('i', 14, 3)} as k,
          timestamptz '2025-01-01 00:00:00Z' + ${hashMod('i', 15, 600_000)} * interval '1 minute' as created_at) as r`);
    await tx`select setval(pg_get_serial_sequence('reviews.reviews', 'id'), ${plan.reviews})`;
    await tx`
      insert into reviews.product_ratings (product_id, review_count, rating_sum, sentiment_sum, sentiment_count)
      select product_id, count(*), sum(rating), coalesce(sum(sentiment), 0), count(sentiment)
      from reviews.reviews group by product_id`;
  });
  await sql`analyze reviews.reviews`;
  // Sets the visibility map too, so aggregate reads are index-only at once.
  await sql`vacuum analyze reviews.product_ratings`;
}
