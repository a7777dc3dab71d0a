// A client's operations, read once and turned into both of its artefacts by GraphQL Code
// Generator's client preset: typed documents (`graphql()` + result/variable types, each
// document carrying its persisted id in `__meta__.hash`) and the trusted-documents manifest
// the gateway reads (TRUSTED_DOCUMENTS; Apollo's persisted-query manifest format) built from
// the preset's persisted documents, so the ids a client sends are exactly the manifest's.
//
// Operations are read by graphql-tag-pluck (via @graphql-tools/code-file-loader) from
// `graphql(…)`/`gql` calls, `gql`/`/* GraphQL */` templates and .graphql files. Apollo-style
// `${FRAGMENT}` interpolations are read (the fragment's own definition is picked up where it
// is declared); anything the extractor cannot read — a file that does not parse, any other
// interpolation, an unknown fragment, an anonymous or duplicated operation, a field the API
// schema does not have — fails the run naming the file, instead of being skipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { preset } from '@graphql-codegen/client-preset';
import { codegen } from '@graphql-codegen/core';
import type { Types } from '@graphql-codegen/plugin-helpers';
import { CodeFileLoader, type CodeFileLoaderConfig } from '@graphql-tools/code-file-loader';
import { GraphQLFileLoader } from '@graphql-tools/graphql-file-loader';
import { type ManifestOperation as GatewayManifestOperation, sha256 } from '@trellis/gateway/trusted-documents';
import {
  buildSchema,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
  visit,
} from 'graphql';
import { API_SCHEMA_PATH } from './compose.ts';
import { ROOT } from './workspace.ts';

/** The gateway's manifest entry, with the name and type this tool always fills in. */
export type ManifestOperation = Required<GatewayManifestOperation> & { type: 'query' | 'mutation' | 'subscription' };

export interface Manifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

/** One GraphQL text read from a client, with the file it came from. */
export interface ClientSource {
  file: string;
  document: DocumentNode;
  rawSDL: string;
}

/** A client whose operations could not be read or do not validate; `problems` names each. */
export class ClientDocumentsError extends Error {
  override name = 'ClientDocumentsError';
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

type TemplateLiteral = Parameters<
  NonNullable<NonNullable<CodeFileLoaderConfig['pluckConfig']>['pluckStringFromFile']>
>[1];

/**
 * The runtime text of a GraphQL template. `${X}` is accepted only where Apollo-style code puts
 * a fragment document — a plain name (or `a.b`) outside every selection set — and dropped (its
 * definition is read where it is declared); anything else is a template we cannot read.
 */
function pluckStrict(code: string, node: TemplateLiteral): string {
  let text = '';
  node.quasis.forEach((quasi, i) => {
    text += quasi.value.cooked ?? quasi.value.raw;
    const expression = node.expressions[i];
    if (!expression) return;
    const depth = (text.match(/\{/g)?.length ?? 0) - (text.match(/\}/g)?.length ?? 0);
    if (!/^(Identifier|MemberExpression)$/.test(expression.type) || depth !== 0) {
      const source = code.slice(expression.start ?? 0, expression.end ?? 0);
      throw new Error(
        `line ${expression.loc?.start.line ?? '?'}: cannot read the interpolation \${${source}}: only fragment documents may be interpolated, outside selections`,
      );
    }
  });
  return text;
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    if (['node_modules', 'generated', 'dist'].includes(entry) || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(graphql|gql|[cm]?[jt]sx?)$/.test(entry) && !/\.test\.|\.d\.[cm]?ts$/.test(entry)) yield path;
  }
}

// noRequire: never execute client code to look for documents.
const codeLoader = new CodeFileLoader({
  noRequire: true,
  noSilentErrors: true,
  pluckConfig: { pluckStringFromFile: pluckStrict },
});
const graphqlLoader = new GraphQLFileLoader();

/** Every operation and fragment in `dir` (generated code, tests and node_modules aside). */
export async function readClientDocuments(dir: string): Promise<ClientSource[]> {
  const sources: ClientSource[] = [];
  const problems: string[] = [];
  for (const file of files(dir)) {
    const loader = /\.(graphql|gql)$/.test(file) ? graphqlLoader : codeLoader;
    try {
      for (const source of await loader.load(file, { cwd: dir, noSilentErrors: true }))
        sources.push({ file, document: source.document!, rawSDL: source.rawSDL ?? '' });
    } catch (error) {
      const errors = error instanceof AggregateError ? error.errors : [error];
      for (const e of errors)
        problems.push(`${relative(ROOT, file)}: ${(e as Error).message.split(`${file}`).join('')}`);
    }
  }
  if (problems.length) throw new ClientDocumentsError(problems);
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

/** Names every anonymous, duplicated or invalid operation (against the API schema). */
export function checkOperations(sources: ClientSource[], schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { document } of sources)
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const seen = new Map<string, string>();
  for (const { file, document, rawSDL } of sources) {
    const where = relative(ROOT, file);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const operation = definition as OperationDefinitionNode;
      if (!operation.name) {
        problems.push(`${where}: operations must be named`);
        continue;
      }
      const name = operation.name.value;
      const previous = seen.get(name);
      if (previous !== undefined && previous !== rawSDL)
        problems.push(`${where}: operation ${name} is defined twice with different bodies`);
      seen.set(name, rawSDL);
      const document = {
        kind: Kind.DOCUMENT,
        definitions: [operation, ...fragmentsUsed(operation, fragments)],
      } as const;
      for (const error of validate(schema, document)) problems.push(`${where}: operation ${name}: ${error.message}`);
    }
  }
  return problems;
}

export interface ClientArtefacts {
  /** Typed documents: repository-relative path → content (graphql.ts, gql.ts, index.ts). */
  files: Map<string, string>;
  manifest: Manifest;
}

/**
 * Reads the client in `dir`, checks its operations against the API schema, and returns its
 * typed documents (written under `<dir>/src/generated/`) and its trusted-documents manifest.
 * Throws ClientDocumentsError naming every problem.
 */
export async function generateClient(dir: string, apiSchemaPath = API_SCHEMA_PATH): Promise<ClientArtefacts> {
  const sdl = readFileSync(apiSchemaPath, 'utf8');
  const schemaAst = buildSchema(sdl);
  const sources = await readClientDocuments(dir);
  const problems = checkOperations(sources, schemaAst);
  if (problems.length) throw new ClientDocumentsError(problems);

  const outDir = `${relative(ROOT, join(dir, 'src', 'generated'))}/`;
  const sections = await preset.buildGeneratesSection({
    baseOutputDir: outDir,
    schema: parse(sdl),
    schemaAst,
    documents: sources.map((s) => ({ location: s.file, document: s.document, rawSDL: s.rawSDL })),
    plugins: [],
    pluginMap: {},
    config: {
      documentMode: 'string',
      useTypeImports: true,
      enumsAsTypes: true,
      scalars: { DateTime: 'string', ID: 'string' },
    },
    presetConfig: {
      fragmentMasking: false,
      // Plain hex sha256 of the printed document: the manifest id the gateway checks.
      persistedDocuments: { hashAlgorithm: (text: string) => sha256(text) },
    },
    documentTransforms: [],
  } as unknown as Types.PresetFnArgs<Record<string, unknown>>);
  const outputs = await Promise.all(
    sections.map(async (section) => [section.filename, await codegen(section)] as const),
  );
  const files = new Map<string, string>();
  let persisted: Record<string, string> = {};
  for (const [filename, content] of outputs) {
    if (filename.endsWith('persisted-documents.json')) persisted = JSON.parse(content);
    else files.set(filename, `// Generated by \`pnpm codegen\` from clients/api.graphql. Do not edit.\n${content}`);
  }
  return { files, manifest: manifestOf(persisted) };
}

function manifestOf(persisted: Record<string, string>): Manifest {
  const operations = Object.entries(persisted).map(([id, body]): ManifestOperation => {
    const operation = parse(body).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    return { id, name: operation.name!.value, type: operation.operation, body };
  });
  operations.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
