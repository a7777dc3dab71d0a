// What a subgraph is, as the kit sees it: its definition (SubgraphDefinition), the little a
// subgraph writes to get one (defineSubgraph: the rest comes from its package layout), the
// resolver context, and migrating it. No server here (index.ts starts one).
import { fileURLToPath } from 'node:url';
import type { CacheOutboxTable } from '@trellis/cache/outbox';
import { readSubgraphSdl } from '@trellis/composition/sdl';
import { type Database, runMigrations } from '@trellis/db';
import type { SeedPlan } from '@trellis/db/seed';
import type { RequestLogFields, Route } from '@trellis/http';
import type { Viewer } from '@trellis/identity';
import { installJobs, type Jobs } from '@trellis/jobs';
import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { type DocumentNode, parse } from 'graphql';
import { readManifest } from './manifest.ts';

export type AnySchema = Record<string, unknown>;

/** What every resolver receives. `loaders` are built fresh for each request. */
export interface SubgraphContext<TSchema extends AnySchema, TLoaders> {
  db: Database<TSchema>['db'];
  sql: Database<TSchema>['sql'];
  loaders: TLoaders;
  /** Who is asking, as verified from the gateway's signed identity. */
  viewer: Viewer;
  /** Operation and error code for this request's access log line. */
  logFields: RequestLogFields;
}

/**
 * The resolver context of a subgraph, from its loader factory (src/loaders.ts):
 * `export type Context = ContextOf<typeof createLoaders>`; codegen types resolvers with it.
 */
export type ContextOf<TCreateLoaders> = TCreateLoaders extends (database: Database<infer TSchema>) => infer TLoaders
  ? SubgraphContext<TSchema, TLoaders>
  : never;

export interface SubgraphDefinition<TSchema extends AnySchema, TLoaders> {
  /** Domain name: service name, Postgres schema and migration ledger suffix. */
  name: string;
  /** Port when PORT is unset (package.json `trellis.port`). */
  defaultPort: number;
  /** Its job worker's port when PORT is unset (package.json `trellis.worker.port`); no worker: undefined. */
  defaultWorkerPort?: number | undefined;
  typeDefs: DocumentNode;
  // biome-ignore lint/suspicious/noExplicitAny: generated resolver types are checked where written
  resolvers: any;
  /** Drizzle tables (pure, no connection). */
  schema: TSchema;
  /** Absolute path of the committed drizzle-kit migrations. */
  migrationsFolder: string;
  /** Per-request DataLoaders. */
  createLoaders: (database: Database<TSchema>) => TLoaders;
  /** Deterministic bulk seed for `pnpm db:seed` / `pnpm dev`. */
  seed: (database: Database<TSchema>, plan: SeedPlan) => Promise<void>;
  /** True when the subgraph's tables hold no data yet (seed-when-empty in dev). */
  isEmpty: (database: Database<TSchema>) => Promise<boolean>;
  /**
   * Extra HTTP routes by exact path beside /graphql (e.g. signed file downloads). They get
   * no gateway identity: each authorises its own requests. 503 until the database is ready.
   */
  routes?: (database: Database<TSchema>) => Record<string, Route>;
  /** The subgraph's job queues (@trellis/jobs): installed in `<name>_jobs` with the migrations. */
  jobs?: Jobs;
  /** The cache-invalidation outbox (`cacheOutboxTable(schema)`) its writes record into. */
  outbox?: CacheOutboxTable;
  /**
   * Reads the subgraph's own settings when its process starts (runSubgraph), so a bad value
   * stops it at once with one line naming the variable rather than at first use.
   */
  checkEnv?: () => unknown;
}

/**
 * Applies a subgraph's migrations, then installs its job queues (pg-boss schema and queues)
 * when it has any: both must exist before the subgraph serves or enqueues.
 */
export async function migrateSubgraph(
  definition: Pick<SubgraphDefinition<AnySchema, unknown>, 'name' | 'migrationsFolder' | 'jobs'>,
  database: Database<AnySchema>,
  databaseUrl: string,
): Promise<void> {
  await runMigrations(database, { domain: definition.name, migrationsFolder: definition.migrationsFolder });
  if (definition.jobs) await installJobs({ databaseUrl, jobs: definition.jobs });
}

/** What a subgraph writes in its src/service.ts; the kit derives the rest from its layout. */
export interface SubgraphSpec<TSchema extends AnySchema, TLoaders>
  extends Omit<
    SubgraphDefinition<TSchema, TLoaders>,
    'name' | 'defaultPort' | 'defaultWorkerPort' | 'typeDefs' | 'migrationsFolder' | 'isEmpty'
  > {
  /** The table its seed fills: while it has no row the subgraph counts as empty (seed-when-empty in dev). */
  seededTable: PgTable;
  /**
   * `import.meta.url` of the subgraph's src/service.ts. Name and port come from
   * ../package.json (`trellis.subgraph`, `trellis.port`: the one source the tools read too),
   * the SDL from ./schema.graphql (completed with the shared tail), migrations from ../migrations.
   */
  module: string;
}

export function defineSubgraph<TSchema extends AnySchema, TLoaders>(
  spec: SubgraphSpec<TSchema, TLoaders>,
): SubgraphDefinition<TSchema, TLoaders> {
  const { module, seededTable, ...rest } = spec;
  const manifest = readManifest(new URL('../package.json', module));
  return {
    name: manifest.name,
    defaultPort: manifest.port,
    defaultWorkerPort: manifest.workerPort,
    typeDefs: loadTypeDefs(new URL('./schema.graphql', module)),
    migrationsFolder: fileURLToPath(new URL('../migrations', module)),
    isEmpty: async ({ db }) => (await db.select({ one: sql`1` }).from(seededTable).limit(1)).length === 0,
    ...rest,
  };
}

/**
 * Reads a `.graphql` file next to the caller (`new URL('./schema.graphql', import.meta.url)`),
 * completed with the shared SDL it uses (@trellis/composition/sdl).
 */
export function loadTypeDefs(file: URL): DocumentNode {
  return parse(readSubgraphSdl(file));
}
