// The accounts subgraph: users (User, Query.me, Query.user).
import { fileURLToPath } from 'node:url';
import { defineSubgraph, loadTypeDefs } from '@trellis/subgraph-kit';
import { sql } from 'drizzle-orm';
import { schema } from './db/schema.ts';
import { seedUsers } from './db/seed.ts';
import { createLoaders } from './loaders.ts';
import { Query } from './resolvers/query.ts';
import { User } from './resolvers/user.ts';

export const subgraph = defineSubgraph({
  name: 'accounts',
  defaultPort: 4001,
  typeDefs: loadTypeDefs(new URL('./schema.graphql', import.meta.url)),
  resolvers: { Query, User },
  schema,
  outbox: schema.cacheOutbox,
  migrationsFolder: fileURLToPath(new URL('../migrations', import.meta.url)),
  createLoaders,
  seed: seedUsers,
  isEmpty: async ({ db }) => (await db.execute(sql`select 1 from accounts.users limit 1`)).length === 0,
});
