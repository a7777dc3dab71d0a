// Loads subgraph definitions (service.ts) for tooling: migrate, seed, test harnesses.
import { createDatabase } from '@trellis/db';
import type { SeedPlan } from '@trellis/db/seed';
import { type AnySchema, migrateSubgraph, type SubgraphDefinition } from '@trellis/subgraph-kit';
import { listSubgraphs, type SubgraphInfo } from './workspace.ts';

export type AnyDefinition = SubgraphDefinition<AnySchema, unknown>;

export async function loadDefinition(info: SubgraphInfo): Promise<AnyDefinition> {
  const module = (await import(info.servicePath)) as { subgraph: AnyDefinition };
  return module.subgraph;
}

export async function loadDefinitions(): Promise<AnyDefinition[]> {
  return Promise.all(listSubgraphs().map(loadDefinition));
}

/** Migrates one subgraph, then seeds it with `plan` if asked (or only when empty). */
export async function prepareSubgraph(
  definition: AnyDefinition,
  url: string,
  options: { seed?: 'always' | 'when-empty' | 'never'; plan?: SeedPlan } = {},
): Promise<{ seeded: boolean }> {
  const database = createDatabase({
    url,
    schema: definition.schema,
    applicationName: `trellis-${definition.name}-tool`,
    max: 2,
    statementTimeoutMs: 600_000,
  });
  try {
    await migrateSubgraph(definition, database, url);
    const mode = options.seed ?? 'never';
    if (mode === 'never' || !options.plan) return { seeded: false };
    if (mode === 'when-empty' && !(await definition.isEmpty(database))) return { seeded: false };
    await definition.seed(database, options.plan);
    return { seeded: true };
  } finally {
    await database.close();
  }
}
