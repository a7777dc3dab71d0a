// Analytics enrichment against real Postgres: addReview writes its job in its transaction,
// the reviews worker enriches the review and counts it in the product's aggregates exactly
// once, and bad payloads never reach the queue.
import { JobPayloadError } from '@trellis/jobs';
import type { JobInfo } from '@trellis/jobs/worker';
import { startSubgraphWorker } from '@trellis/subgraph-kit/worker';
import { until } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enrichReviewHandler } from '../src/jobs/enrich-review.ts';
import { enrichReviewQueue, reviewsJobs } from '../src/jobs/queues.ts';
import { reviewsWorker } from '../src/jobs/worker.ts';
import { subgraph } from '../src/service.ts';
import { insertReview } from '../src/writes.ts';

let service: TestSubgraph;
beforeAll(async () => {
  service = await startTestSubgraph(subgraph, inject('databaseUrl'));
});
afterAll(async () => {
  await service?.stop();
});

const sql = () => service.running.database.sql;
const as = (userId: number) => ({ as: { userId: String(userId), scopes: [] } });
const ADD = /* GraphQL */ `
  mutation($input: AddReviewInput!) { addReview(input: $input) { review { id } userErrors { code } } }
`;
const PRODUCT = /* GraphQL */ `
  query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { reviewCount averageRating averageSentiment } } }
`;

const jobsFor = async (reviewId: number) =>
  sql()`select id, state from reviews_jobs.job where name = 'enrich-review' and data->>'reviewId' = ${String(reviewId)}`;
const ratings = async (productId: number) =>
  (
    await sql()`select review_count, rating_sum, sentiment_count from reviews.product_ratings where product_id = ${productId}`
  )[0];
const jobInfo = (messageId: string): JobInfo => ({
  id: messageId,
  queue: enrichReviewQueue.name,
  messageId,
  attempt: 1,
  signal: new AbortController().signal,
});

describe('review enrichment', () => {
  it('a rolled-back review write leaves neither the review nor its job', async () => {
    const body = `rolled back ${Date.now()}`;
    const jobsBefore = (await sql()`select count(*)::int as n from reviews_jobs.job where name = 'enrich-review'`)[0]!
      .n;
    await expect(
      service.running.database.db.transaction(async (tx) => {
        await insertReview(tx as never, { productId: 1, authorId: 1, rating: 3, body });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await sql()`select id from reviews.reviews where body = ${body}`).toHaveLength(0);
    expect((await sql()`select count(*)::int as n from reviews_jobs.job where name = 'enrich-review'`)[0]!.n).toBe(
      jobsBefore,
    );
  });

  it('addReview enqueues its job; the worker enriches the review and counts it once', async () => {
    const productId = 900_001;
    const { body } = await service.query(
      ADD,
      {
        input: { productId: String(productId), rating: 4, body: 'Great kettle, I love this kettle. Quick and quiet.' },
      },
      as(5),
    );
    expect(body.errors).toBeUndefined();
    const reviewId = Number((body.data as any).addReview.review.id);
    expect(await jobsFor(reviewId)).toHaveLength(1);
    // Not counted until enriched.
    expect(await ratings(productId)).toBeUndefined();

    const worker = await startSubgraphWorker(reviewsWorker, {
      databaseUrl: service.database.url,
      port: 0,
      pollIntervalMs: 50,
    });
    try {
      await until(
        async () => (await jobsFor(reviewId))[0]?.state,
        (state) => state === 'completed',
      );
    } finally {
      await worker.stop(5_000);
    }
    const [review] = await sql()`select sentiment, keywords, enriched_at from reviews.reviews where id = ${reviewId}`;
    expect(review!.enriched_at).not.toBeNull();
    expect(review!.sentiment).toBeGreaterThan(0);
    expect(review!.keywords[0]).toBe('kettle');
    expect(await ratings(productId)).toEqual({ review_count: 1, rating_sum: 4, sentiment_count: 1 });

    const read = await service.query(`{ review(id: "${reviewId}") { sentiment keywords } }`, {});
    expect((read.body.data as any).review).toEqual({ sentiment: review!.sentiment, keywords: review!.keywords });
    // A nested (lateral, per-parent) page maps every column as the keyed read does.
    const fields = 'id rating body createdAt sentiment keywords author { id } product { id }';
    const single = await service.query(`{ review(id: "${reviewId}") { ${fields} } }`, {});
    const nested = await service.query(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { reviews(first: 5) { edges { node { ${fields} } } } } } }`,
      { r: [{ __typename: 'Product', id: String(productId) }] },
    );
    expect(nested.body.errors).toBeUndefined();
    expect((single.body.data as any).review.keywords).toEqual(review!.keywords);
    expect((nested.body.data as any)._entities[0].reviews.edges.map((edge: any) => edge.node)).toEqual([
      (single.body.data as any).review,
    ]);
    const product = await service.query(PRODUCT, { r: [{ __typename: 'Product', id: String(productId) }] });
    const entity = (product.body.data as any)._entities[0];
    expect(entity.reviewCount).toBe(1);
    expect(entity.averageRating).toBe(4);
    expect(entity.averageSentiment).toBeCloseTo(review!.sentiment, 5);
  });

  it('a redelivered job, or a second job for the same review, never counts it twice', async () => {
    const productId = 900_002;
    const row = await service.running.database.db.transaction((tx) =>
      insertReview(tx as never, { productId, authorId: 2, rating: 2, body: 'Awful lid, broke at once.' }),
    );
    const handler = enrichReviewHandler(service.running.database as never);
    await handler.handle({ reviewId: row.id }, jobInfo(`review:${row.id}`));
    await handler.handle({ reviewId: row.id }, jobInfo(`review:${row.id}`));
    await handler.handle({ reviewId: row.id }, jobInfo('another-message'));
    await Promise.all([
      handler.handle({ reviewId: row.id }, jobInfo('concurrent-a')),
      handler.handle({ reviewId: row.id }, jobInfo('concurrent-b')),
    ]);
    expect(await ratings(productId)).toEqual({ review_count: 1, rating_sum: 2, sentiment_count: 1 });
    const [review] = await sql()`select sentiment from reviews.reviews where id = ${row.id}`;
    expect(review!.sentiment).toBeLessThan(0);
    const processed =
      await sql()`select message_id from reviews.processed_messages where message_id = ${`review:${row.id}`}`;
    expect(processed).toHaveLength(1);
  });

  it('refuses a malformed or oversized payload at enqueue, and enqueues nothing', async () => {
    const count = async () => (await sql()`select count(*)::int as n from reviews_jobs.job`)[0]!.n;
    const before = await count();
    for (const payload of [
      { reviewId: -1 },
      { reviewId: 1.5 },
      { reviewId: '7' },
      {},
      { reviewId: 1, note: 'x'.repeat(100_000) },
    ]) {
      const attempt = service.running.database.db.transaction((tx) =>
        reviewsJobs.enqueue(tx as never, enrichReviewQueue, payload as never),
      );
      await expect(attempt).rejects.toBeInstanceOf(JobPayloadError);
      await expect(attempt).rejects.toMatchObject({ code: 'JOB_PAYLOAD_INVALID', queue: 'enrich-review' });
    }
    expect(await count()).toBe(before);
  });

  it('gives admins the queue stats, and no one else', async () => {
    const query = '{ reviewJobQueues { queue depth active oldestAgeSeconds failed deadLetters } }';
    const admin = await service.query(query, {}, { as: { userId: '1', scopes: ['admin'] } });
    expect(admin.body.errors).toBeUndefined();
    const [stats] = (admin.body.data as any).reviewJobQueues;
    const waiting = (
      await sql()`select count(*)::int as n from reviews_jobs.job where name = 'enrich-review' and state in ('created', 'retry')`
    )[0]!.n;
    expect(stats).toMatchObject({ queue: 'enrich-review', depth: waiting, deadLetters: 0 });
    expect(waiting).toBeGreaterThan(0);
    const user = await service.query(query, {}, as(1));
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
