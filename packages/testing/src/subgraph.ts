// Starts one subgraph in-process for its integration tests: its own fresh database,
// migrated and seeded with TEST_SEED, on an ephemeral port, statements counted.
import { createDatabase } from '@trellis/db';
import type { SeedPlan } from '@trellis/db/seed';
import { type AnySchema, type RunningSubgraph, type SubgraphDefinition, startSubgraph } from '@trellis/subgraph-kit';
import { createTestDatabase, StatementCounter, TEST_SEED, type TestDatabase } from './index.ts';

export interface TestSubgraph {
  url: string;
  running: RunningSubgraph;
  database: TestDatabase;
  statements: StatementCounter;
  stop(): Promise<void>;
}

export async function startTestSubgraph<TSchema extends AnySchema, TLoaders>(
  definition: SubgraphDefinition<TSchema, TLoaders>,
  serverUrl: string,
  options: { plan?: SeedPlan | null } = {},
): Promise<TestSubgraph> {
  const database = await createTestDatabase(serverUrl, `trellis_${definition.name}`);
  const statements = new StatementCounter();
  const running = await startSubgraph(definition, {
    port: 0,
    databaseUrl: database.url,
    nodeEnv: 'test',
    onQuery: statements.onQuery,
  });
  await running.ready;
  const plan = options.plan === undefined ? TEST_SEED : options.plan;
  if (plan) {
    const seeding = createDatabase({
      url: database.url,
      schema: definition.schema,
      applicationName: 'trellis-test-seed',
      max: 1,
    });
    try {
      await definition.seed(seeding, plan);
    } finally {
      await seeding.close();
    }
  }
  statements.reset();
  return {
    url: `${running.url}/graphql`,
    running,
    database,
    statements,
    async stop() {
      await running.stop();
      await database.drop();
    },
  };
}
