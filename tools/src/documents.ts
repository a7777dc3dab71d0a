// `pnpm documents:extract <dir…> [--out FILE] [--check]`: collects a client's operations
// (.graphql/.gql files, and gql`…` or /* GraphQL */ `…` templates in .ts/.tsx/.js files),
// validates each against the supergraph clients see, and writes the trusted-documents
// manifest the gateway reads (TRUSTED_DOCUMENTS; Apollo's persisted-query manifest format).
// `--check` also fails when the committed manifest differs. Invalid operations fail the run.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { apiSchemaOf } from '@trellis/composition/changes';
import { type ManifestOperation as GatewayManifestOperation, sha256 } from '@trellis/gateway/trusted-documents';
import {
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  validate,
  visit,
} from 'graphql';
import { ROOT } from './workspace.ts';

/** The gateway's manifest entry, with the name and type this tool always fills in. */
export type ManifestOperation = Required<GatewayManifestOperation> & { type: 'query' | 'mutation' | 'subscription' };

export interface Manifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

interface Source {
  file: string;
  text: string;
}

const TEMPLATE = /(?:\bgql|\/\*\s*GraphQL\s*\*\/)\s*`([^`]*)`/g;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Every GraphQL text in `dirs`, with the file it came from. */
export function collectSources(dirs: string[]): Source[] {
  const sources: Source[] = [];
  for (const dir of dirs) {
    for (const file of files(dir)) {
      if (/\.(graphql|gql)$/.test(file)) sources.push({ file, text: readFileSync(file, 'utf8') });
      else if (/\.(ts|tsx|js|jsx|mjs)$/.test(file) && !/\.test\.|\.d\.ts$/.test(file)) {
        for (const match of readFileSync(file, 'utf8').matchAll(TEMPLATE)) {
          if (!match[1]?.includes('${')) sources.push({ file, text: match[1] ?? '' });
        }
      }
    }
  }
  return sources;
}

function fragmentsUsed(
  node: DefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FragmentDefinitionNode[] {
  const found: FragmentDefinitionNode[] = [];
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) return;
      seen.add(name);
      found.push(fragment, ...fragmentsUsed(fragment, fragments, seen));
    },
  });
  return found;
}

/** Builds the manifest; `problems` lists every invalid or ambiguous operation. */
export function buildManifest(
  sources: Source[],
  schema: GraphQLSchema,
  root = ROOT,
): { manifest: Manifest; problems: string[] } {
  const problems: string[] = [];
  const documents: { file: string; document: DocumentNode }[] = [];
  for (const source of sources) {
    try {
      documents.push({ file: source.file, document: parse(source.text) });
    } catch (error) {
      problems.push(`${relative(root, source.file)}: ${(error as Error).message}`);
    }
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { document } of documents) {
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  const operations = new Map<string, ManifestOperation>();
  for (const { file, document } of documents) {
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const where = relative(root, file);
      const operation = definition as OperationDefinitionNode;
      if (!operation.name) {
        problems.push(`${where}: operations must be named`);
        continue;
      }
      const name = operation.name.value;
      const body = [operation, ...fragmentsUsed(operation, fragments)].map((d) => print(d)).join('\n\n');
      const errors = validate(schema, parse(body));
      for (const error of errors) problems.push(`${where}: operation ${name}: ${error.message}`);
      const existing = operations.get(name);
      if (existing && existing.body !== body)
        problems.push(`${where}: operation ${name} is defined twice with different bodies`);
      operations.set(name, {
        id: sha256(body),
        name,
        type: operation.operation,
        body,
      });
    }
  }
  const sorted = [...operations.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: sorted }, problems };
}

function main(): void {
  const argv = process.argv.slice(2);
  const outAt = argv.indexOf('--out');
  const out = resolve(outAt >= 0 ? (argv[outAt + 1] ?? '') : 'persisted-operations.json');
  const dirs = argv.filter((arg, i) => !arg.startsWith('--') && argv[i - 1] !== '--out').map((d) => resolve(d));
  if (dirs.length === 0) {
    process.stderr.write('usage: pnpm documents:extract <dir…> [--out FILE] [--check]\n');
    process.exit(1);
  }
  const schema = apiSchemaOf(readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'));
  const { manifest, problems } = buildManifest(collectSources(dirs), schema);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (argv.includes('--check')) {
    if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
      process.stderr.write(`${relative(process.cwd(), out)} is stale: run pnpm documents:extract without --check\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${manifest.operations.length} operations valid; ${relative(process.cwd(), out)} up to date\n`,
    );
    return;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${manifest.operations.length} operations to ${relative(process.cwd(), out)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
