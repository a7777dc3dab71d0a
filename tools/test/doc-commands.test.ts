// Every `pnpm <script>` the docs tell someone to run exists: README.md, docs/*.md and the
// READMEs of every package, the gateway and the clients. Commands are read from code (inline
// code spans and fenced blocks), so prose about pnpm itself is not a command; `pnpm --filter
// <package> <script>` is looked up in that package.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../src/workspace.ts';

/** pnpm's own commands the docs may use (not scripts). */
const PNPM_COMMANDS = new Set([
  'install',
  'i',
  'add',
  'exec',
  'dlx',
  'fetch',
  'ls',
  'why',
  'help',
  'store',
  'outdated',
]);
/** Binaries of the root's dependencies, which `pnpm <bin>` runs too. */
const BINARIES = new Set(['vitest', 'tsc', 'biome', 'tsx']);
/** Named by the docs as what not to type (pnpm reserves it): must stay unused as a script. */
const WARNED_AGAINST = new Set(['token']);

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
const projectDirs = [
  '.',
  'gateway',
  'tools',
  'bench',
  ...['packages', 'subgraphs', 'clients'].flatMap((top) =>
    readdirSync(join(ROOT, top))
      .map((name) => join(top, name))
      .filter((dir) => existsSync(join(ROOT, dir, 'package.json'))),
  ),
];
const projects = new Map(projectDirs.map((dir) => [manifest(dir).name, manifest(dir)]));

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name));
  const readmes = projectDirs.map((dir) => join(ROOT, dir, 'README.md')).filter((path) => existsSync(path));
  return [...readmes, ...docs];
}

/** Code in a markdown text: fenced blocks and inline spans. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  return [...fenced, ...[...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '')];
}

/** The scripts a piece of code runs through pnpm: `{ project, script }`, project undefined = the root. */
export function pnpmScripts(code: string): { filter: string | undefined; script: string }[] {
  const found: { filter: string | undefined; script: string }[] = [];
  for (const match of code.matchAll(/\bpnpm((?:\s+[^\s|&;)"'`]+)+)/g)) {
    const tokens = (match[1] ?? '').trim().split(/\s+/);
    let filter: string | undefined;
    let recursive = false;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] ?? '';
      if (token === '--filter' || token === '-F') filter = tokens[++i];
      else if (token === '-r' || token === '--recursive') recursive = true;
      else if (token === 'run') continue;
      else if (token.startsWith('-')) continue;
      else {
        if (!recursive && /^[a-z][\w:-]*$/.test(token) && !PNPM_COMMANDS.has(token))
          found.push({ filter, script: token });
        break;
      }
    }
  }
  return found;
}

describe('commands in the docs', () => {
  it('reads commands from code only, with filters and run', () => {
    expect(pnpmScripts('pnpm --silent run dev:token --user 1')).toEqual([{ filter: undefined, script: 'dev:token' }]);
    expect(pnpmScripts('pnpm --filter @trellis/storefront build')).toEqual([
      { filter: '@trellis/storefront', script: 'build' },
    ]);
    expect(pnpmScripts('pnpm install && pnpm dev')).toEqual([{ filter: undefined, script: 'dev' }]);
    expect(pnpmScripts('pnpm -r --if-present db:generate')).toEqual([]);
  });

  it('every `pnpm <script>` in README.md, docs/ and the package READMEs exists', () => {
    const files = documents();
    // The front doors are all there: the root, the gateway, every package.
    for (const dir of ['.', 'gateway', ...projectDirs.filter((d) => d.startsWith('packages'))])
      expect(files, `${dir}/README.md`).toContain(join(ROOT, dir, 'README.md'));
    const missing: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const code of codeOf(readFileSync(file, 'utf8'))) {
        for (const { filter, script } of pnpmScripts(code)) {
          checked++;
          if (filter === undefined && (BINARIES.has(script) || WARNED_AGAINST.has(script))) continue;
          const project = filter === undefined ? projects.get('trellis') : projects.get(filter);
          if (!project?.scripts?.[script])
            missing.push(`${relative(ROOT, file)}: pnpm ${filter ? `--filter ${filter} ` : ''}${script}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    for (const name of WARNED_AGAINST) expect(projects.get('trellis')?.scripts?.[name]).toBeUndefined();
    expect(missing).toEqual([]);
  });
});
