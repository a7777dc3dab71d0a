// The client-facing API schema's changelog for frontend teams: every change to
// clients/api.graphql (added, deprecated, removed, changed — with graphql-inspector's
// criticality) grouped by date and by the subgraph that owns the member (from the
// supergraph's join__ directives). `pnpm compose` appends the changes it makes to
// docs/schema-changelog.json (the history, generated) and renders docs/schema-changelog.md
// from it; the history records the sha256 of the API schema it is current with, so a stale
// changelog is caught (`pnpm compose --check`, tools/test/schema-changelog.test.ts).
// `node --import tsx tools/src/schema-changelog.ts --rebuild` rebuilds it from git history.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { isMainModule, parseCommand, usageError } from '@trellis/config/cli';
import { buildSchema, type ConstDirectiveNode, type DefinitionNode, Kind, parse, type StringValueNode } from 'graphql';
import { ROOT } from './workspace.ts';

export const CHANGELOG_JSON = join(ROOT, 'docs', 'schema-changelog.json');
export const CHANGELOG_MD = join(ROOT, 'docs', 'schema-changelog.md');

export type ChangeKind = 'added' | 'deprecated' | 'removed' | 'changed';

export interface ChangelogItem {
  kind: ChangeKind;
  /** Schema coordinate (`Type.field`, `Type.field.arg`) as graphql-inspector names it. */
  path: string;
  message: string;
  criticality: 'breaking' | 'dangerous' | 'safe';
  /** Owning subgraph(s), comma-separated; `schema` when none can be told. */
  subgraph: string;
}

export interface ChangelogEntry {
  /** YYYY-MM-DD (UTC). */
  date: string;
  items: ChangelogItem[];
}

export interface Changelog {
  /** sha256 of the clients/api.graphql text this history is current with. */
  apiSchemaSha256: string;
  /** Newest first. */
  entries: ChangelogEntry[];
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function kindOf(change: Change): ChangeKind {
  const type = String(change.type);
  if (type.includes('DESCRIPTION')) return 'changed';
  if (/DEPRECATION(_REASON)?_ADDED$/.test(type)) return 'deprecated';
  if (type.includes('DEPRECATION')) return 'changed';
  if (type.endsWith('_ADDED')) return 'added';
  if (type.endsWith('_REMOVED')) return 'removed';
  return 'changed';
}

const CRITICALITY: Record<CriticalityLevel, ChangelogItem['criticality']> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

/** Which subgraphs own each type and field of a supergraph (join__type / join__field). */
export function ownersOf(supergraph: string | undefined): (path: string) => string | undefined {
  if (!supergraph) return () => undefined;
  const definitions = parse(supergraph).definitions;
  const graphs = new Map<string, string>();
  for (const d of definitions)
    if (d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'join__Graph')
      for (const value of d.values ?? []) {
        const name = value.directives
          ?.find((x) => x.name.value === 'join__graph')
          ?.arguments?.find((a) => a.name.value === 'name')?.value as StringValueNode | undefined;
        if (name) graphs.set(value.name.value, name.value);
      }
  // A field another subgraph only declares @external (for @requires/@key) is not its to change.
  const external = (x: ConstDirectiveNode) =>
    x.arguments?.some((a) => a.name.value === 'external' && a.value.kind === Kind.BOOLEAN && a.value.value) ?? false;
  const graphArgs = (directives: readonly ConstDirectiveNode[] | undefined, directive: string) =>
    (directives ?? [])
      .filter((x) => x.name.value === directive && !external(x))
      .flatMap((x) => x.arguments?.filter((a) => a.name.value === 'graph') ?? [])
      .flatMap((a) => (a.value.kind === Kind.ENUM ? [graphs.get(a.value.value) ?? a.value.value.toLowerCase()] : []));
  const owners = new Map<string, string[]>();
  for (const d of definitions as DefinitionNode[]) {
    if (!('name' in d) || !d.name || !('directives' in d)) continue;
    const typeGraphs = graphArgs(d.directives as ConstDirectiveNode[], 'join__type');
    if (typeGraphs.length === 0) continue;
    owners.set(d.name.value, typeGraphs);
    const fields = 'fields' in d ? (d.fields ?? []) : [];
    for (const field of fields) {
      const fieldGraphs = graphArgs(field.directives, 'join__field');
      owners.set(`${d.name.value}.${field.name.value}`, fieldGraphs.length ? fieldGraphs : typeGraphs);
    }
  }
  return (path) => {
    const [type, field] = path.split('.');
    const found = (field && owners.get(`${type}.${field}`)) || owners.get(type ?? '');
    return found ? [...new Set(found)].sort().join(', ') : undefined;
  };
}

/** The changes from one API schema to the next, each with its owning subgraph. */
export async function changelogItems(
  before: { api: string; supergraph?: string | undefined },
  after: { api: string; supergraph?: string | undefined },
): Promise<ChangelogItem[]> {
  const changes = await diff(buildSchema(before.api), buildSchema(after.api));
  const ownerBefore = ownersOf(before.supergraph);
  const ownerAfter = ownersOf(after.supergraph);
  // A deprecation is one change: the @deprecated usage that carries it is not another.
  const relevant = changes.filter(
    (change) => !(String(change.type).startsWith('DIRECTIVE_USAGE_') && change.path?.includes('.@deprecated')),
  );
  return relevant.map((change) => {
    const kind = kindOf(change);
    const path = (change.path ?? '').replace(/\.@.*$/, '');
    const subgraph = (kind === 'removed' ? ownerBefore(path) : (ownerAfter(path) ?? ownerBefore(path))) ?? 'schema';
    return { kind, path, message: change.message, criticality: CRITICALITY[change.criticality.level], subgraph };
  });
}

/** Adds `items` under `date` (merged into that date's entry when it is the newest). */
export function appendEntry(changelog: Changelog, date: string, items: ChangelogItem[], apiText: string): Changelog {
  const entries = [...changelog.entries];
  if (items.length) {
    if (entries[0]?.date === date) entries[0] = { date, items: [...entries[0].items, ...items] };
    else entries.unshift({ date, items });
  }
  return { apiSchemaSha256: sha256(apiText), entries };
}

const KIND_ORDER: ChangeKind[] = ['removed', 'changed', 'deprecated', 'added'];

export function renderChangelog(changelog: Changelog): string {
  const lines = [
    '# API schema changelog',
    '',
    'Every change to the client-facing API schema (`clients/api.graphql`), newest first, grouped by',
    'date and by the subgraph that owns what changed. Generated by `pnpm compose` from',
    '`docs/schema-changelog.json`; do not edit. **breaking** changes fail `pnpm schema:check` unless',
    'no client used them (see [docs/usage.md](usage.md)) or they are acknowledged.',
  ];
  for (const entry of changelog.entries) {
    lines.push('', `## ${entry.date}`);
    const bySubgraph = new Map<string, ChangelogItem[]>();
    for (const item of entry.items) bySubgraph.set(item.subgraph, [...(bySubgraph.get(item.subgraph) ?? []), item]);
    for (const subgraph of [...bySubgraph.keys()].sort()) {
      lines.push('', `### ${subgraph}`, '');
      const items = (bySubgraph.get(subgraph) ?? []).sort(
        (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.path.localeCompare(b.path),
      );
      for (const item of items)
        lines.push(
          `- ${item.kind}${item.criticality === 'safe' ? '' : ` (**${item.criticality}**)`}: \`${item.path}\` — ${item.message.replace(/\n/g, ' ')}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function readChangelog(path = CHANGELOG_JSON): Changelog {
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Changelog)
    : { apiSchemaSha256: '', entries: [] };
}

export function writeChangelog(changelog: Changelog, jsonPath = CHANGELOG_JSON, mdPath = CHANGELOG_MD): void {
  writeFileSync(jsonPath, `${JSON.stringify(changelog, null, 2)}\n`);
  writeFileSync(mdPath, renderChangelog(changelog));
}

/** Why the committed changelog is not current with `apiText`, or undefined when it is. */
export function changelogProblem(
  apiText: string,
  jsonPath = CHANGELOG_JSON,
  mdPath = CHANGELOG_MD,
): string | undefined {
  if (!existsSync(jsonPath) || !existsSync(mdPath)) return 'docs/schema-changelog.{json,md} are missing';
  const changelog = readChangelog(jsonPath);
  if (changelog.apiSchemaSha256 !== sha256(apiText))
    return 'docs/schema-changelog.json does not cover the current clients/api.graphql';
  if (readFileSync(mdPath, 'utf8') !== renderChangelog(changelog))
    return 'docs/schema-changelog.md is not rendered from docs/schema-changelog.json';
  return undefined;
}

/** `pnpm compose`: records the change from the API schema on disk to the one being written. */
export async function recordApiChange(
  before: { api: string; supergraph?: string | undefined },
  after: { api: string; supergraph: string },
  date = new Date().toISOString().slice(0, 10),
): Promise<number> {
  const items = before.api === after.api ? [] : await changelogItems(before, after);
  const current = readChangelog();
  if (items.length === 0 && current.apiSchemaSha256 === sha256(after.api) && existsSync(CHANGELOG_MD)) return 0;
  writeChangelog(appendEntry(current, date, items, after.api));
  return items.length;
}

/** Rebuilds the history from every commit that changed clients/api.graphql. */
async function rebuildFromGit(): Promise<Changelog> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const show = (rev: string, path: string) => {
    try {
      return git('show', `${rev}:${path}`);
    } catch {
      return undefined;
    }
  };
  const commits = git('log', '--reverse', '--format=%H %cI', '--', 'clients/api.graphql')
    .trim()
    .split('\n')
    .filter(Boolean);
  let changelog: Changelog = { apiSchemaSha256: '', entries: [] };
  let previous: { api: string; supergraph?: string | undefined } | undefined;
  for (const line of commits) {
    const [hash, when] = line.split(' ') as [string, string];
    const api = show(hash, 'clients/api.graphql');
    if (!api) continue;
    const current = { api, supergraph: show(hash, 'supergraph.graphql') };
    const date = new Date(when).toISOString().slice(0, 10);
    const items: ChangelogItem[] = previous
      ? await changelogItems(previous, current)
      : [
          {
            kind: 'added',
            path: '(schema)',
            message: 'First published client-facing API schema.',
            criticality: 'safe',
            subgraph: 'schema',
          },
        ];
    changelog = appendEntry(changelog, date, items, api);
    previous = current;
  }
  return changelog;
}

const SPEC = {
  command: 'node --import tsx tools/src/schema-changelog.ts',
  usage: '--rebuild',
  help: `Rebuilds docs/schema-changelog.json and docs/schema-changelog.md from every commit that changed
clients/api.graphql (pnpm compose appends to them as the schema changes).

  --rebuild  required: replace both files with the history rebuilt from git`,
  options: { rebuild: { type: 'boolean' } },
} as const;

if (isMainModule(import.meta.url)) {
  if (!parseCommand(SPEC).values.rebuild) usageError(SPEC, 'missing --rebuild');
  const changelog = await rebuildFromGit();
  writeChangelog(changelog);
  process.stdout.write(`wrote ${CHANGELOG_JSON} and ${CHANGELOG_MD} (${changelog.entries.length} dates)\n`);
}
