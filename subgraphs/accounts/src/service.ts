// The accounts subgraph: users (User, Query.me, Query.user).
import { defineSubgraph } from '@trellis/subgraph-kit';
import { schema } from './db/schema.ts';
import { seedUsers } from './db/seed.ts';
import { createLoaders } from './loaders.ts';
import { Query } from './resolvers/query.ts';
import { User } from './resolvers/user.ts';

export const subgraph = defineSubgraph({
  module: import.meta.url,
  resolvers: { Query, User },
  schema,
  outbox: schema.cacheOutbox,
  createLoaders,
  seed: seedUsers,
  seededTable: schema.users,
});
