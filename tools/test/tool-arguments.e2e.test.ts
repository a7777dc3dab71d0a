// Every command-line entry point (tools/src, bench/, gateway/explorer) read through
// @trellis/config/cli: `--help` prints the usage and changes nothing, an unknown flag or a
// missing/invalid argument is refused with one line plus the usage line and exit code 2.
// Real processes, as the package scripts run them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CommandResult, runCommand } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

interface Tool {
  /** How its messages name it (the spec's `command`). */
  name: string;
  script: string;
  /** Arguments before the flags under test (a subcommand). */
  prefix?: string[];
}

const TOOLS: Tool[] = [
  { name: 'node --import tsx tools/src/check-boundaries.ts', script: 'tools/src/check-boundaries.ts' },
  { name: 'pnpm codegen', script: 'tools/src/codegen.ts' },
  { name: 'pnpm compose', script: 'tools/src/compose.ts' },
  { name: 'pnpm dev', script: 'tools/src/dev.ts' },
  { name: 'pnpm documents:extract', script: 'tools/src/documents.ts' },
  { name: 'pnpm jobs:status', script: 'tools/src/jobs.ts', prefix: ['status'] },
  { name: 'pnpm jobs:redrive', script: 'tools/src/jobs.ts', prefix: ['redrive'] },
  { name: 'pnpm k8s', script: 'tools/src/k8s.ts' },
  { name: 'pnpm db:migrate', script: 'tools/src/migrate.ts' },
  { name: 'pnpm new:subgraph', script: 'tools/src/new-subgraph.ts' },
  { name: 'pnpm ops', script: 'tools/src/ops.ts' },
  { name: 'pnpm schema:check', script: 'tools/src/schema-check.ts' },
  { name: 'pnpm db:seed', script: 'tools/src/seed.ts' },
  { name: 'pnpm --silent run dev:token', script: 'tools/src/token.ts' },
  { name: 'node --import tsx tools/src/webhook-sink.ts', script: 'tools/src/webhook-sink.ts' },
  { name: 'pnpm build', script: 'tools/src/build.ts' },
  { name: 'pnpm schema:usage', script: 'tools/src/usage/cli.ts' },
  { name: 'pnpm usage:export', script: 'tools/src/usage/export.ts' },
  { name: 'node --import tsx tools/src/schema-changelog.ts', script: 'tools/src/schema-changelog.ts' },
  { name: 'node --import tsx gateway/explorer/cli.ts', script: 'gateway/explorer/cli.ts' },
  ...['cache', 'cors', 'gateway', 'jobs', 'pagination', 'rate-limit', 'replicas', 'tracing', 'usage'].map((bench) => ({
    name: `pnpm bench:${bench}`,
    script: `bench/${bench}.ts`,
  })),
];

// Nothing may be reached: a tool that connected anywhere on --help would fail loudly.
const UNREACHABLE = { DATABASE_URL: 'postgres://127.0.0.1:1/nothing', REDIS_URL: 'redis://127.0.0.1:1' };

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const run = (tool: Tool, args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', tool.script, ...(tool.prefix ?? []), ...args], {
    cwd: ROOT,
    env: { ...UNREACHABLE, NO_COLOR: '1' },
    timeoutMs: 30_000,
  });

/** Runs `f` over every item, four processes at a time (the machine has two cores). */
async function fourAtATime<T>(items: readonly T[], f: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await f(item);
    }),
  );
}

const eachTool = (f: (tool: Tool) => Promise<void>) => fourAtATime(TOOLS, f);

/**
 * What a tool could write: generated files (supergraph, API schema, ops/, resolver types,
 * client documents), subgraphs, docs (benchmarks), compose and lock files, the explorer
 * bundle. Path → modification time.
 */
function writableFiles(): Map<string, number> {
  const roots = [
    'supergraph.graphql',
    'docker-compose.yml',
    'pnpm-lock.yaml',
    'package.json',
    'clients',
    'ops',
    'subgraphs',
    'docs',
    'gateway/dist/explorer',
  ];
  const files = new Map<string, number>();
  const visit = (path: string): void => {
    const stat = statSync(join(ROOT, path), { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isDirectory()) files.set(path, stat.mtimeMs);
    else for (const entry of readdirSync(join(ROOT, path))) if (entry !== 'node_modules') visit(join(path, entry));
  };
  for (const root of roots) visit(root);
  return files;
}

const shown = (tool: Tool, result: CommandResult) =>
  `${tool.script} ${tool.prefix?.join(' ') ?? ''}\n${result.stdout}\n${result.stderr}`;

/** Asserts the refusal format: `<name>: <reason>` then the usage line, nothing on stdout, exit 2. */
function expectRefused(tool: Tool, result: CommandResult, reason: RegExp): void {
  expect(result.code, shown(tool, result)).toBe(2);
  expect(result.stdout, shown(tool, result)).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, shown(tool, result)).toHaveLength(2);
  expect(lines[0], shown(tool, result)).toMatch(new RegExp(`^${literal(tool.name)}: `));
  expect(lines[0]!.slice(tool.name.length + 2), shown(tool, result)).toMatch(reason);
  expect(lines[1], shown(tool, result)).toMatch(new RegExp(`^usage: ${literal(tool.name)}( |$)`));
}

describe('command-line tools', () => {
  it('answer --help (and -h) with their usage and change nothing', { timeout: 300_000 }, async () => {
    const before = writableFiles();
    await eachTool(async (tool) => {
      const result = await run(tool, ['--help']);
      expect(result.code, shown(tool, result)).toBe(0);
      expect(result.stderr, shown(tool, result)).toBe('');
      expect(result.stdout, shown(tool, result)).toMatch(new RegExp(`^usage: ${literal(tool.name)}`));
      // More than the usage line: what the command does.
      expect(result.stdout.split('\n').length, shown(tool, result)).toBeGreaterThan(3);
    });
    // -h too, and --help wins over anything beside it, even a flag that would do work or is wrong.
    const helpWins = TOOLS.filter((t) => ['pnpm compose', 'pnpm db:seed'].includes(t.name)).flatMap((tool) =>
      [['-h'], ['--check', '--yes', '--no-such-flag', '--help']].map((args) => [tool, args] as const),
    );
    await fourAtATime(helpWins, async ([tool, args]) => {
      const result = await run(tool, args);
      expect(result.code, shown(tool, result)).toBe(0);
      expect(result.stdout, shown(tool, result)).toMatch(/^usage: /);
    });
    // Not a file written, rewritten or removed (compose, codegen, k8s, ops, seed, …).
    expect(writableFiles()).toEqual(before);
  });

  it('refuse an unknown flag with one line, the usage line and exit code 2', { timeout: 300_000 }, async () => {
    await eachTool(async (tool) => {
      expectRefused(tool, await run(tool, ['--no-such-flag']), /^Unknown option '--no-such-flag'$/);
    });
  });

  it('refuse missing and invalid arguments the same way', { timeout: 120_000 }, async () => {
    const tool = (name: string) => TOOLS.find((t) => t.name === name)!;
    const cases: [Tool, string[], RegExp][] = [
      [tool('pnpm documents:extract'), [], /^expected 1 argument, got 0$/],
      [tool('pnpm new:subgraph'), [], /^expected 1 argument, got 0$/],
      [tool('pnpm jobs:redrive'), ['orders'], /^expected 2 arguments, got 1$/],
      [tool('pnpm jobs:redrive'), ['orders', 'invoice', '--limit', 'many'], /^--limit must be an integer ≥ 1/],
      [tool('pnpm schema:check'), ['--base'], /^Option '--base <value>' argument missing$/],
      [tool('pnpm codegen'), ['no-such-subgraph'], /^no subgraph or client named no-such-subgraph$/],
      [tool('pnpm db:seed'), ['--scale', 'lots'], /^--scale must be a positive number \(got 'lots'\)$/],
      [tool('pnpm compose'), ['supergraph.graphql'], /^unexpected argument 'supergraph.graphql'$/],
      [tool('pnpm bench:replicas'), ['--rounds', 'x'], /^--rounds must be a number ≥ 0 \(got 'x'\)$/],
      [tool('pnpm bench:usage'), ['--flush-interval', 'x'], /^--flush-interval must be a number ≥ 0 \(got 'x'\)$/],
      [tool('pnpm build'), ['nope'], /^unknown target nope \(gateway, /],
      [tool('pnpm schema:usage'), [], /^give one coordinate or --deprecated$/],
      [tool('pnpm schema:usage'), ['Product.name', '--window-days', '0'], /^--window-days must be an integer ≥ 1/],
      [tool('pnpm usage:export'), ['--window-days', 'soon'], /^--window-days must be an integer ≥ 1/],
      [tool('node --import tsx tools/src/schema-changelog.ts'), [], /^missing --rebuild$/],
    ];
    const jobs: Tool = { name: 'node --import tsx tools/src/jobs.ts', script: 'tools/src/jobs.ts' };
    cases.push([jobs, [], /^missing command$/], [jobs, ['purge'], /^unknown command 'purge'$/]);
    await fourAtATime(cases, async ([each, args, reason]) => expectRefused(each, await run(each, args), reason));
  });

  it('pnpm compose --help through pnpm writes no file (its flags reach all of compose, k8s and ops)', async () => {
    const before = writableFiles();
    const result = await runCommand('pnpm', ['--silent', 'compose', '--help'], {
      cwd: ROOT,
      env: { npm_config_verify_deps_before_run: 'false' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^usage: pnpm compose \[--check\]\n/);
    expect(writableFiles()).toEqual(before);
  });
});
