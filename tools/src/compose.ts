// `pnpm compose`: rebuilds supergraph.graphql from every subgraph's schema.graphql, routed
// to the default local ports. `--check` exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompositionError, composeSupergraph } from '@trellis/composition';
import { listSubgraphs, ROOT } from './workspace.ts';

export const SUPERGRAPH_PATH = join(ROOT, 'supergraph.graphql');

export function composeWorkspace(urlFor: (name: string, port: number) => string = defaultUrl): string {
  return composeSupergraph(
    listSubgraphs().map((subgraph) => ({
      name: subgraph.name,
      url: urlFor(subgraph.name, subgraph.port),
      sdl: readFileSync(subgraph.schemaPath, 'utf8'),
    })),
  );
}

function defaultUrl(_name: string, port: number): string {
  return `http://127.0.0.1:${port}/graphql`;
}

function main(): void {
  let supergraph: string;
  try {
    supergraph = composeWorkspace();
  } catch (error) {
    if (error instanceof CompositionError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
    if (committed !== supergraph) {
      process.stderr.write('supergraph.graphql is stale: run `pnpm compose` and commit it.\n');
      process.exit(1);
    }
    process.stdout.write('supergraph.graphql is up to date.\n');
    return;
  }
  writeFileSync(SUPERGRAPH_PATH, supergraph);
  process.stdout.write(`wrote ${SUPERGRAPH_PATH}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
