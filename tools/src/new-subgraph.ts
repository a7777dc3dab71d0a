// `pnpm new:subgraph <name>`: scaffolds subgraphs/<name> from tools/templates/subgraph (one
// entity with a Relay connection, assembled from the shared packages like every subgraph),
// links it, generates its first migration, its resolver types and the supergraph, and adds
// its service to docker-compose.yml. A bad name changes nothing; a failed step undoes every
// change made before it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isMainModule, parseCommand } from '@trellis/config/cli';
import { Kind, parse } from 'graphql';
import { renderK8s } from './k8s.ts';
import { K8S_BASE } from './k8s-objects.ts';
import { POSTGRES_INIT, PROMETHEUS_CONFIG, renderOps, SERVICE_RULES } from './ops.ts';
import { MEMORY, OUTSIDE_HEAP_MIB } from './runtime.ts';
import { listSubgraphs, ROOT } from './workspace.ts';

const TEMPLATES = join(ROOT, 'tools', 'templates');
const MAX_LENGTH = 30;
const SPEC = {
  command: 'pnpm new:subgraph',
  usage: '<name>',
  help: `Scaffolds subgraphs/<name> from tools/templates/subgraph (one entity with a Relay connection),
links it, generates its first migration, its resolver types and the supergraph, and adds its
service to docker-compose.yml. <name> is a lower-case identifier, e.g. shipping. A bad name
changes nothing; a failed step undoes every change made before it.`,
  options: {},
  positionals: [1, 1],
} as const;

/** A name the tool refuses, with the one line that says why. */
export class NameError extends Error {}

/** Every name the templates are rendered with (`{{key}}`), derived from the subgraph name. */
export interface SubgraphNames {
  /** Folder, package suffix, service, Postgres schema and ledger suffix: `shipments`. */
  name: string;
  /** The entity: `Shipment`. */
  Pascal: string;
  PascalPlural: string;
  /** `Query.shipment(id)`. */
  camel: string;
  /** `Query.shipments(…)`, the Drizzle table constant. */
  camelPlural: string;
  /** The SQL table in schema `name`. */
  table: string;
  /** `SUBGRAPH_URL_SHIPMENTS`. */
  NAME: string;
  port: string;
}

// Names nothing may be called, and why. Checked before anything is written.
const RESERVED: Record<string, string> = {};
function reserve(reason: string, words: string): void {
  for (const word of words.split(/\s+/).filter(Boolean)) RESERVED[word] ??= reason;
}
reserve(
  'a folder, package or tool of the repository',
  'gateway packages package subgraphs subgraph tools tool bench ops docs node_modules src dist test tests templates generated migrations kit testing trellis',
);
// `drizzle` held every migration ledger before they moved to `<name>_migrations`, `pgboss` is pg-boss's schema, `pg…` names belong to Postgres.
reserve('a Postgres schema in use or reserved', 'public drizzle pgboss pg postgres information_schema');
reserve('a service of docker-compose.yml', 'postgres redis seed jaeger prometheus grafana');
reserve(
  'a GraphQL word or a type every subgraph shares',
  'graphql schema query mutation subscription fragment on type input enum scalar union interface directive extend implements true false null string int float boolean id node nodes entity entities service datetime pageinfo orderdirection usererror connection edge',
);
// Postgres reserved key words (also those allowed only as function or type names): the
// name is used unquoted as a schema name in SQL.
reserve(
  'an SQL reserved word',
  'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column concurrently constraint create cross default deferrable desc distinct do else end except fetch for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull offset only or order outer overlaps placing primary references returning right select similar some symmetric table tablesample then to trailing unique user using variadic verbose when where window with',
);
// The entity becomes a module-level constant (`export const <Pascal>`): these would shadow a global.
reserve(
  'a JavaScript global the generated code would shadow',
  'date error object array map set promise symbol number math json function proxy reflect',
);

/** Plural identifiers the templates declare themselves; the table constant must not shadow them. */
const TEMPLATE_IDENTIFIERS = new Set(['args', 'ids', 'loaders', 'arguments', 'implements', 'extends']);

/** `shipments` → `shipment`, `categories` → `category`, `shipping` → `shipping`. */
export function singular(word: string): string {
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^su]s$/.test(word) && !/is$/.test(word)) return word.slice(0, -1);
  return word;
}

/** `shipment` → `shipments`, `category` → `categories`, `address` → `addresses`. */
export function plural(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

export function deriveNames(name: string, port: number): SubgraphNames {
  const one = singular(name);
  const many = plural(one);
  return {
    name,
    Pascal: capitalise(one),
    PascalPlural: capitalise(many),
    camel: one,
    camelPlural: many,
    table: many,
    NAME: name.toUpperCase(),
    port: String(port),
  };
}

/** Checks the shape of a name (no file is read): a lower-case identifier, not reserved. */
export function checkNameShape(name: string): void {
  if (name.startsWith('pg_')) throw new NameError(`"${name}" is reserved: pg_ names belong to Postgres`);
  if (!/^[a-z][a-z0-9]*$/.test(name)) {
    throw new NameError(
      `"${name}" is not a valid subgraph name: use a lower-case identifier (a letter, then letters or digits)`,
    );
  }
  if (name.length > MAX_LENGTH) {
    throw new NameError(`"${name}" is too long: at most ${MAX_LENGTH} characters (it names Postgres objects)`);
  }
  const reason = RESERVED[name];
  if (reason) throw new NameError(`"${name}" is reserved (${reason}); choose another name`);
  const { camelPlural } = deriveNames(name, 0);
  if (TEMPLATE_IDENTIFIERS.has(camelPlural) || RESERVED[camelPlural]) {
    throw new NameError(`"${name}" would name its table "${camelPlural}", which is reserved; choose another name`);
  }
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Top-level service names of docker-compose.yml. */
function composeServices(yaml: string): string[] {
  const start = yaml.search(/^services:\s*$/m);
  if (start === -1) return [];
  const lines = yaml.slice(start).split('\n').slice(1);
  const services: string[] = [];
  for (const line of lines) {
    if (/^\S/.test(line)) break;
    const match = /^ {2}([A-Za-z0-9_.-]+):\s*$/.exec(line);
    if (match?.[1]) services.push(match[1]);
  }
  return services;
}

/** Names of every workspace package (the `packages:` globs of pnpm-workspace.yaml: `dir` or `dir/*`). */
function workspacePackageNames(root: string): Set<string> {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:[ \t]+.*\n?|\s*\n)*)/m.exec(yaml)?.[1] ?? '';
  const names = new Set<string>();
  for (const [, glob = ''] of block.matchAll(/^\s+-\s+["']?([^"'\s]+)/gm)) {
    const base = join(root, glob.replace(/\/\*$/, ''));
    if (!existsSync(base)) continue;
    const dirs = glob.endsWith('/*') ? readdirSync(base).map((entry) => join(base, entry)) : [base];
    for (const dir of dirs) {
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest)) names.add(String(readJson(manifest).name));
    }
  }
  return names;
}

/**
 * Checks a name against the workspace: not an existing subgraph, service or package, and
 * nothing the new SDL would define (types, Query fields) is defined by a subgraph already.
 */
export function checkNameInWorkspace(names: SubgraphNames, root = ROOT): void {
  const { name } = names;
  const subgraphs = listSubgraphs(root);
  if (existsSync(join(root, 'subgraphs', name)) || subgraphs.some((s) => s.name === name)) {
    throw new NameError(`"${name}" already exists (subgraphs/${name}); choose another name`);
  }
  if (composeServices(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).includes(name)) {
    throw new NameError(`"${name}" is taken: docker-compose.yml already has a service "${name}"`);
  }
  if (workspacePackageNames(root).has(`@trellis/subgraph-${name}`)) {
    throw new NameError(`"${name}" is taken: the workspace already has a package @trellis/subgraph-${name}`);
  }
  const { Pascal, camel, camelPlural } = names;
  const types = [Pascal, ...['Filter', 'Order', 'OrderField', 'Connection', 'Edge'].map((s) => `${Pascal}${s}`)];
  const definitions = subgraphs.flatMap((subgraph) =>
    parse(readFileSync(subgraph.schemaPath, 'utf8')).definitions.map((definition) => ({ subgraph, definition })),
  );
  // Types first: a clash there says more than a clash of one of their Query fields.
  for (const { subgraph, definition } of definitions) {
    if ('name' in definition && definition.name && types.includes(definition.name.value)) {
      throw new NameError(
        `"${name}" would define type ${definition.name.value}, which subgraph ${subgraph.name} already defines; choose another name`,
      );
    }
  }
  for (const { subgraph, definition } of definitions) {
    const isQuery =
      (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      definition.name.value === 'Query';
    for (const field of isQuery ? (definition.fields ?? []) : []) {
      if (field.name.value === camel || field.name.value === camelPlural) {
        throw new NameError(
          `"${name}" would define Query.${field.name.value}, which subgraph ${subgraph.name} already defines; choose another name`,
        );
      }
    }
  }
}

/** Host ports docker-compose.yml publishes by default (`"${X_HOST_PORT:-4001}:4001"` or `"4001:4001"`). */
export function composeHostPorts(compose: string): number[] {
  return [...compose.matchAll(/"(?:\$\{\w+:-)?(\d+)\}?:(\d+)"/g)].flatMap((m) => [Number(m[1]), Number(m[2])]);
}

/** The next free port after the highest subgraph port (none taken by docker-compose either). */
export function nextPort(root = ROOT): number {
  const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const taken = new Set([4000, ...composeHostPorts(compose)]);
  let port = Math.max(4000, ...listSubgraphs(root).map((s) => s.port)) + 1;
  while (taken.has(port)) port++;
  return port;
}

/** Replaces every `{{key}}`; an unknown key is a template bug, not a user error. */
export function render(text: string, names: SubgraphNames | Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = (names as unknown as Record<string, string>)[key];
    if (value === undefined) throw new Error(`template placeholder {{${key}}} is unknown`);
    return value;
  });
}

function templatePaths(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return templatePaths(path, base);
    return path.endsWith('.tmpl') ? [relative(base, path)] : [];
  });
}

type Manifest = Record<string, unknown> & Partial<Record<'exports' | 'scripts' | 'dependencies', object>>;

/**
 * package.json of the new subgraph: its own name and `trellis` block, and the exports,
 * scripts and (dev)dependencies every existing subgraph has in common, at the version most
 * of them use, so a new subgraph never drifts from the others.
 */
export function manifestFor(names: SubgraphNames, existing: Manifest[]): Record<string, unknown> {
  if (existing.length === 0) throw new Error('no existing subgraph to take scripts and dependencies from');
  const common = (field: string): Record<string, unknown> => {
    const maps = existing.map((m) => (m[field] ?? {}) as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(maps[0] ?? {})) {
      if (!maps.every((m) => key in m)) continue;
      const votes = new Map<string, number>();
      for (const m of maps) votes.set(JSON.stringify(m[key]), (votes.get(JSON.stringify(m[key])) ?? 0) + 1);
      const [winner = 'null'] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
      out[key] = JSON.parse(winner);
    }
    return out;
  };
  return {
    name: `@trellis/subgraph-${names.name}`,
    version: '0.0.0',
    private: true,
    type: 'module',
    trellis: {
      subgraph: names.name,
      port: Number(names.port),
      mappers: { [names.Pascal]: `../db/schema.ts#${names.Pascal}Row` },
    },
    exports: common('exports'),
    scripts: common('scripts'),
    dependencies: common('dependencies'),
    devDependencies: common('devDependencies'),
  };
}

/** The version of `pkg` most subgraphs declare (dependencies or devDependencies), if any does. */
function mostUsedVersion(existing: Manifest[], pkg: string): string | undefined {
  const votes = new Map<string, number>();
  for (const manifest of existing) {
    for (const field of ['dependencies', 'devDependencies'] as const) {
      const version = (manifest[field] as Record<string, string> | undefined)?.[pkg];
      if (version !== undefined) votes.set(version, (votes.get(version) ?? 0) + 1);
    }
  }
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Every file of the new subgraph (path relative to subgraphs/<name>) with its content. */
export function renderSubgraph(names: SubgraphNames, root = ROOT): Map<string, string> {
  const existing = listSubgraphs(root).map((s) => readJson(join(s.dir, 'package.json')) as Manifest);
  const manifest = manifestFor(names, existing);
  const files = new Map<string, string>([['package.json', `${JSON.stringify(manifest, null, 2)}\n`]]);
  const dir = join(TEMPLATES, 'subgraph');
  for (const path of templatePaths(dir)) {
    files.set(render(path.slice(0, -'.tmpl'.length), names), render(readFileSync(join(dir, path), 'utf8'), names));
  }
  // Every package a generated module imports must be a dependency it declares (or the root's):
  // one the subgraphs share already, or else added at the version the others use (a subgraph
  // declares only what it imports, so the shared set can lack what the templates need).
  const rootManifest = readJson(join(root, 'package.json')) as Manifest;
  const declared = new Set(
    [manifest.dependencies, manifest.devDependencies, rootManifest.devDependencies].flatMap((d) =>
      Object.keys(d ?? {}),
    ),
  );
  for (const [path, text] of files) {
    for (const [, specifier = ''] of text.matchAll(/from '([^'.][^']*)'/g)) {
      if (specifier.startsWith('node:')) continue;
      const pkg = specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
      if (declared.has(pkg)) continue;
      const field = path.startsWith('test/') ? 'devDependencies' : 'dependencies';
      const version = mostUsedVersion(existing, pkg);
      if (version === undefined) throw new Error(`${path} imports ${pkg}, which no other subgraph depends on`);
      manifest[field] = { ...(manifest[field] as Record<string, unknown>), [pkg]: version };
      declared.add(pkg);
    }
  }
  files.set('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

/** Index of the last line of the block that starts at `start` (lines indented deeper). */
function blockEnd(lines: string[], start: number): number {
  const indent = (line: string) => line.length - line.trimStart().length;
  const own = indent(lines[start] ?? '');
  let end = start;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    if (indent(line) <= own) break;
    end = i;
  }
  return end;
}

/**
 * docker-compose.yml with a service for the subgraph (before the gateway's), the gateway
 * routed to it (SUBGRAPH_URL_<NAME>) and waiting for it (depends_on), and the seed waiting for
 * it too (it seeds only after the subgraph migrated as its own role).
 */
export function addComposeService(yaml: string, names: SubgraphNames): string {
  const lines = yaml.split('\n');
  const serviceLine = (service: string) => {
    const index = lines.indexOf(`  ${service}:`);
    if (index === -1) throw new Error(`docker-compose.yml: no \`${service}\` service to route to the new subgraph`);
    return index;
  };
  const keyLine = (service: string, key: string) => {
    const start = serviceLine(service);
    const end = blockEnd(lines, start);
    const index = lines.findIndex((line, i) => i > start && i <= end && line === `    ${key}:`);
    if (index === -1) throw new Error(`docker-compose.yml: the ${service} service has no \`${key}:\` block`);
    return index;
  };
  const waitFor = `      ${names.name}: { condition: service_healthy }`;
  // Bottom-up, so earlier indexes stay valid.
  const edits: [number, string][] = [
    [blockEnd(lines, keyLine('gateway', 'depends_on')) + 1, waitFor],
    [
      blockEnd(lines, keyLine('gateway', 'environment')) + 1,
      `      SUBGRAPH_URL_${names.NAME}: http://${names.name}:${names.port}/graphql`,
    ],
    [blockEnd(lines, keyLine('seed', 'depends_on')) + 1, waitFor],
    [
      serviceLine('gateway'),
      render(readFileSync(join(TEMPLATES, 'compose-service.yml.tmpl'), 'utf8'), {
        ...names,
        // The production command's memory settings (runtime.ts), as for every subgraph.
        semiSpaceMib: String(MEMORY.subgraph.semiSpaceMib),
        outsideHeapMib: String(OUTSIDE_HEAP_MIB),
        minHeapMib: String(MEMORY.subgraph.minHeapMib),
        limitMi: String(MEMORY.subgraph.limitMi),
      }).replace(/\n$/, ''),
    ],
  ];
  for (const [index, text] of edits.sort((a, b) => b[0] - a[0])) lines.splice(index, 0, text);
  return lines.join('\n');
}

/** Files and folders changed so far, to put back when a step fails. */
class Changes {
  private created: string[] = [];
  private originals = new Map<string, string | null>();
  installed = false;

  /** Remembers a folder this run creates. */
  made(path: string): void {
    this.created.push(path);
  }

  /** Remembers a file's content before its first change. */
  editing(path: string): void {
    if (!this.originals.has(path)) this.originals.set(path, existsSync(path) ? readFileSync(path, 'utf8') : null);
  }

  undo(): string[] {
    const undone: string[] = [];
    for (const path of this.created.reverse()) {
      rmSync(path, { recursive: true, force: true });
      undone.push(`removed ${relative(ROOT, path)}`);
    }
    for (const [path, original] of this.originals) {
      if (original === null) rmSync(path, { force: true });
      else if (!existsSync(path) || readFileSync(path, 'utf8') !== original) writeFileSync(path, original);
      else continue;
      undone.push(`restored ${relative(ROOT, path)}`);
    }
    return undone;
  }
}

let interrupted = false;

/** Runs a command in the repository; rejects with its output when it fails. */
function run(command: string, args: string[], cwd = ROOT): Promise<void> {
  return new Promise((resolve, reject) => {
    if (interrupted) return reject(new Error('interrupted'));
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (interrupted) return reject(new Error('interrupted'));
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-30).join('\n');
      reject(new Error(`\`${command} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})\n${tail}`));
    });
  });
}

function say(line: string): void {
  process.stdout.write(`new:subgraph: ${line}\n`);
}

async function create(names: SubgraphNames, files: Map<string, string>, changes: Changes): Promise<void> {
  const dir = join(ROOT, 'subgraphs', names.name);
  const rel = `subgraphs/${names.name}`;
  // Every file a step may rewrite, remembered before the first step: pnpm may install (and so
  // rewrite the lockfile) before any command that runs in the workspace.
  const k8s = [...renderK8s().keys(), `${K8S_BASE}/${names.name}.yaml`];
  const ops = [...renderOps().keys()];
  for (const file of [
    'docker-compose.yml',
    'pnpm-lock.yaml',
    'supergraph.graphql',
    'clients/api.graphql',
    // pnpm compose records the new API in the changelog (schema-changelog.ts).
    'docs/schema-changelog.json',
    'docs/schema-changelog.md',
    ...k8s,
    ...ops,
  ])
    changes.editing(join(ROOT, file));
  changes.made(dir);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  say(`wrote ${files.size} files to ${rel}`);

  const composePath = join(ROOT, 'docker-compose.yml');
  writeFileSync(composePath, addComposeService(readFileSync(composePath, 'utf8'), names));
  say(
    `docker-compose.yml: service ${names.name} (port ${names.port}, database role ${names.name}); gateway routes to it and waits for it`,
  );

  // Links the new package (its node_modules) and records it in the lockfile. Offline first: it
  // depends on nothing the store lacks. Never frozen (CI=true would imply it).
  changes.installed = true;
  try {
    await run('pnpm', ['install', '--offline', '--no-frozen-lockfile']);
  } catch (error) {
    if (interrupted) throw error;
    await run('pnpm', ['install', '--no-frozen-lockfile']);
  }
  say('linked the package (pnpm install; pnpm-lock.yaml updated)');

  // Lengths of names change line breaks and import order: format like every other module.
  await run('pnpm', ['exec', 'biome', 'check', '--write', rel]);
  say(`biome: formatted ${rel}`);

  await run('pnpm', ['--dir', rel, 'db:generate', '--name', 'init']);
  if (!existsSync(join(dir, 'migrations', '0000_init.sql'))) throw new Error('drizzle-kit wrote no migration');
  say(`drizzle-kit: ${rel}/migrations/0000_init.sql (ledger ${names.name}_migrations.__migrations_${names.name})`);

  await run('pnpm', ['codegen', names.name]);
  say(`codegen: ${rel}/src/generated/graphql.ts`);

  await run('pnpm', ['compose']);
  say('compose: supergraph.graphql now routes to it');
}

export async function main(argv: readonly string[]): Promise<number> {
  const name = parseCommand(SPEC, argv).positionals[0] ?? '';
  let names: SubgraphNames;
  let files: Map<string, string>;
  try {
    checkNameShape(name);
    names = deriveNames(name, nextPort());
    checkNameInWorkspace(names);
    files = renderSubgraph(names);
  } catch (error) {
    process.stderr.write(`new:subgraph: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }

  // Ctrl-C reaches the running child too; the step fails and everything is undone.
  const stop = () => {
    interrupted = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  say(`${names.name}: entity ${names.Pascal}, Query.${names.camelPlural} and Query.${names.camel}, port ${names.port}`);
  const changes = new Changes();
  try {
    await create(names, files, changes);
  } catch (error) {
    process.stderr.write(`new:subgraph: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    for (const line of changes.undo()) say(`undo: ${line}`);
    if (changes.installed) {
      // Relink node_modules to the restored lockfile (best effort: the files are already back).
      interrupted = false;
      await run('pnpm', ['install', '--offline', '--no-frozen-lockfile']).catch(() => {});
    }
    say('nothing was kept');
    return 1;
  }

  const rel = `subgraphs/${names.name}`;
  process.stdout.write(
    [
      '',
      `created ${rel}: @trellis/subgraph-${names.name} on port ${names.port}, Postgres schema ${names.name}`,
      'registered: composition, codegen, pnpm dev, db:migrate, db:seed and the e2e harness find every',
      '  subgraphs/* folder (tools/src/workspace.ts); docker-compose.yml has its service and the gateway',
      `  routes to it (SUBGRAPH_URL_${names.NAME}).`,
      `kubernetes: ops/k8s/base/${names.name}.yaml (Deployment, Service, HPA, PDB, ServiceAccount,`,
      '  NetworkPolicy) and its PodMonitor (ops/k8s/components/monitoring); generated by pnpm k8s,',
      '  which pnpm compose runs; the gateway routes to it there too.',
      `compose stack: database role ${names.name} (${POSTGRES_INIT}), a Prometheus target`,
      `  (${PROMETHEUS_CONFIG}) and TrellisServiceDown coverage (${SERVICE_RULES}); generated by`,
      '  pnpm ops, which pnpm compose runs.',
      `next: pnpm test ${rel}; add it to README's services table; commit ${rel}, pnpm-lock.yaml,`,
      '  supergraph.graphql, docker-compose.yml, ops/k8s, ops/postgres and ops/prometheus.',
      '',
    ].join('\n'),
  );
  return 0;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
