// Query fields of the reviews subgraph.
import { paginate } from '@trellis/relay';
import { jobQueuesField, parseId } from '@trellis/subgraph-kit';
import { and, count } from 'drizzle-orm';
import { reviews } from '../db/schema.ts';
import type { QueryResolvers } from '../generated/graphql.ts';
import { reviewsJobs } from '../jobs/queues.ts';
import { reviewFilter, reviewOrdering } from '../lists.ts';

export const Query: QueryResolvers = {
  review: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.reviewById.load(key);
  },
  reviews: (_parent, args, { db }) => {
    const where = reviewFilter(args.filter);
    return paginate(
      args,
      reviewOrdering(args.orderBy),
      (page) =>
        db
          .select()
          .from(reviews)
          .where(and(where, page.where))
          .orderBy(...page.orderBy)
          .limit(page.limit),
      async () => (await db.select({ n: count() }).from(reviews).where(where))[0]?.n ?? 0,
    );
  },
  // @requiresScopes at the gateway; checked again here (defence in depth).
  reviewJobQueues: jobQueuesField(reviewsJobs),
};
