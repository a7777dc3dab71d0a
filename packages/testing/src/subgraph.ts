// Starts one subgraph in-process for its integration tests: its own fresh database,
// migrated and seeded with TEST_SEED, on an ephemeral port, statements counted.
import { createDatabase } from '@trellis/db';
import type { SeedPlan } from '@trellis/db/seed';
import { ANONYMOUS, createViewerSigner, DEV_AUTH, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import {
  type AnySchema,
  type RunningSubgraph,
  type StartOptions,
  type SubgraphDefinition,
  startSubgraph,
} from '@trellis/subgraph-kit';
import {
  createTestDatabase,
  type GraphQLResponse,
  graphql,
  StatementCounter,
  TEST_SEED,
  type TestDatabase,
} from './index.ts';

export interface TestSubgraph {
  url: string;
  /** POSTs an operation as the gateway would: with a signed identity (anonymous by default). */
  query<TData = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { as?: Viewer | null },
  ): Promise<GraphQLResponse<TData>>;
  running: RunningSubgraph;
  database: TestDatabase;
  statements: StatementCounter;
  stop(): Promise<void>;
}

export async function startTestSubgraph<TSchema extends AnySchema, TLoaders>(
  definition: SubgraphDefinition<TSchema, TLoaders>,
  serverUrl: string,
  options: { plan?: SeedPlan | null; invalidation?: StartOptions['invalidation'] } = {},
): Promise<TestSubgraph> {
  const database = await createTestDatabase(serverUrl, `trellis_${definition.name}`);
  const statements = new StatementCounter();
  const running = await startSubgraph(definition, {
    port: 0,
    databaseUrl: database.url,
    nodeEnv: 'test',
    onQuery: statements.onQuery,
    ...(options.invalidation ? { invalidation: options.invalidation } : {}),
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
  const url = `${running.url}/graphql`;
  const sign = createViewerSigner(DEV_AUTH.subgraphSecret);
  return {
    url,
    async query(query, variables, options = {}) {
      const viewer = options.as === undefined ? ANONYMOUS : options.as;
      const headers: Record<string, string> = viewer === null ? {} : { [IDENTITY_HEADER]: await sign(viewer) };
      return graphql(url, query, variables, headers);
    },
    running,
    database,
    statements,
    async stop() {
      await running.stop();
      await database.drop();
    },
  };
}
