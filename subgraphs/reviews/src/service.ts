// The reviews subgraph: Review, Product.reviews/averageRating/reviewCount, User.reviews.
import { defineSubgraph } from '@trellis/subgraph-kit';
import { schema } from './db/schema.ts';
import { seedReviews } from './db/seed.ts';
import { reviewsJobs } from './jobs/queues.ts';
import { createLoaders } from './loaders.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Product } from './resolvers/product.ts';
import { Query } from './resolvers/query.ts';
import { Review } from './resolvers/review.ts';
import { User } from './resolvers/user.ts';

export const subgraph = defineSubgraph({
  module: import.meta.url,
  resolvers: { Query, Mutation, Review, Product, User },
  schema,
  outbox: schema.cacheOutbox,
  createLoaders,
  seed: seedReviews,
  jobs: reviewsJobs,
  seededTable: schema.reviews,
});
