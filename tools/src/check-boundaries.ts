// Architecture boundaries as a lint rule: a subgraph never imports another subgraph, the
// gateway never imports a subgraph, and shared packages import neither. A browser client
// (clients/<name>) imports nothing of the workspace: it talks to the graph over HTTP only,
// and server code must not reach its bundle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isMainModule, parseCommand } from '@trellis/config/cli';
import { ROOT } from './workspace.ts';

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Which tier a repo-relative path belongs to, and (for a subgraph) which one. */
function tierOf(path: string): { tier: 'subgraph' | 'gateway' | 'package' | 'client' | 'other'; name?: string } {
  const parts = path.split(sep);
  if (parts[0] === 'clients' && parts[1]) return { tier: 'client', name: parts[1] };
  if (parts[0] === 'subgraphs' && parts[1]) return { tier: 'subgraph', name: parts[1] };
  if (parts[0] === 'gateway') return { tier: 'gateway' };
  if (parts[0] === 'packages') return { tier: 'package' };
  return { tier: 'other' };
}

/** The subgraph an import points at, if any (by package name or by relative path). */
function importedSubgraph(specifier: string, fromFile: string): string | undefined {
  const byName = /^@trellis\/subgraph-(?!kit\b)([a-z0-9-]+)/.exec(specifier);
  if (byName) return byName[1];
  if (specifier.startsWith('.')) {
    const target = relative(ROOT, join(ROOT, fromFile, '..', specifier));
    const parts = target.split(sep);
    if (parts[0] === 'subgraphs' && parts[1]) return parts[1];
  }
  return undefined;
}

export function checkSource(file: string, source: string): Violation[] {
  const from = tierOf(file);
  if (from.tier === 'other') return [];
  const violations: Violation[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? '';
    if (from.tier === 'client') {
      const outside =
        specifier.startsWith('.') &&
        !relative(ROOT, join(ROOT, file, '..', specifier)).startsWith(`clients${sep}${from.name}${sep}`);
      if (outside || specifier.startsWith('@trellis/'))
        violations.push({
          file,
          specifier,
          rule: `client ${from.name} must not import workspace code (it uses the graph over HTTP)`,
        });
      continue;
    }
    const target = importedSubgraph(specifier, file);
    if (target && from.tier === 'subgraph' && target !== from.name) {
      violations.push({ file, specifier, rule: `subgraph ${from.name} must not import subgraph ${target}` });
    } else if (target && from.tier !== 'subgraph') {
      violations.push({ file, specifier, rule: `${from.tier} code must not import subgraph ${target}` });
    } else if (from.tier === 'package' && /^@trellis\/gateway\b/.test(specifier)) {
      violations.push({ file, specifier, rule: 'shared packages must not import the gateway' });
    }
  }
  return violations;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

function main(): void {
  parseCommand({
    command: 'node --import tsx tools/src/check-boundaries.ts',
    usage: '',
    help: `The architecture boundaries (run by pnpm lint): a subgraph never imports another subgraph, the
gateway never imports a subgraph, shared packages import neither, and a browser client imports
nothing of the workspace. Prints each violation; exit 1 when there is one. Takes no arguments.`,
    options: {},
  });
  const violations: Violation[] = [];
  let files = 0;
  for (const top of ['subgraphs', 'gateway', 'packages', 'clients']) {
    for (const path of sourceFiles(join(ROOT, top))) {
      files++;
      violations.push(...checkSource(relative(ROOT, path), readFileSync(path, 'utf8')));
    }
  }
  for (const v of violations) process.stderr.write(`${v.file}: import '${v.specifier}': ${v.rule}\n`);
  if (violations.length) process.exit(1);
  // Said out loud, so a run that checked nothing cannot pass for one that found nothing.
  process.stdout.write(`boundaries: ${files} files checked, no violations\n`);
}

if (isMainModule(import.meta.url)) main();
