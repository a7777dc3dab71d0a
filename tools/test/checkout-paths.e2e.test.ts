// The checks CI relies on do their work from a checkout reached through a symlink whose path
// holds a space, and from a copy whose real path holds one: `import.meta.url` is the real path,
// percent-encoded, so comparing it with `file://${process.argv[1]}` made `pnpm compose --check`
// and `pnpm schema:check` exit 0 having checked nothing. Each run must print what it checked,
// and a broken file in the copy must fail it.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, runCommand } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

let scratch: string;
/** A symlink to this checkout: `<tmp>/trellis link <random>/repo`. */
let linked: string;
/** A copy of this checkout's files at `<tmp>/trellis link <random>/copy of repo`. */
let copy: string;

const output = (result: CommandResult) => `${result.stdout}\n${result.stderr}`;
// pnpm 12 would otherwise check the install state first (and reinstall in the copy).
const PNPM_ENV = { npm_config_verify_deps_before_run: 'false', NO_COLOR: '1' };
const pnpm = (cwd: string, ...args: string[]) =>
  runCommand('pnpm', ['--silent', ...args], { cwd, env: PNPM_ENV, timeoutMs: 120_000 });
const tool = (script: string, ...args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, timeoutMs: 120_000 });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'trellis link '));
  linked = join(scratch, 'repo');
  symlinkSync(ROOT, linked);
  // The copy: the checkout's files (tracked, or new and not ignored), its node_modules folders
  // linked to this checkout's (pnpm's links inside them are relative to where they live).
  copy = join(scratch, 'copy of repo');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }
  const projects = JSON.parse(
    execFileSync('pnpm', ['-r', 'ls', '--depth', '-1', '--json'], { cwd: ROOT, encoding: 'utf8' }),
  ) as { path: string }[];
  for (const { path } of projects)
    symlinkSync(join(path, 'node_modules'), join(copy, path.slice(ROOT.length), 'node_modules'));
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a checkout reached through a symlink with a space in its path', () => {
  it('pnpm compose --check checks the supergraph, the API schema and the generated ops files', async () => {
    expect(linked).toContain(' ');
    const result = await pnpm(linked, 'compose', '--check');
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toContain('supergraph.graphql and clients/api.graphql are up to date.');
    expect(result.stdout).toMatch(/pnpm k8s: \d+ files up to date/);
    expect(result.stdout).toMatch(/pnpm ops: \d+ files up to date/);
  });

  it('pnpm schema:check composes and compares', async () => {
    const result = await pnpm(linked, 'schema:check');
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toMatch(/^composition: ok\n(no schema changes against |no base revision|[\s\S]*breaking)/);
  });

  it('the tools run by their path through the link (process.argv[1] is the linked path)', async () => {
    const composed = await tool(join(linked, 'tools/src/compose.ts'), '--check');
    expect(composed.code, output(composed)).toBe(0);
    expect(composed.stdout).toContain('supergraph.graphql and clients/api.graphql are up to date.');
    const boundaries = await tool(join(linked, 'tools/src/check-boundaries.ts'));
    expect(boundaries.code, output(boundaries)).toBe(0);
    expect(boundaries.stdout).toMatch(/^boundaries: \d+ files checked, no violations\n$/);
  });
});

describe('a copy whose real path has a space in it', () => {
  it('pnpm compose --check passes on the copy, then names a stale supergraph and fails', async () => {
    const clean = await pnpm(copy, 'compose', '--check');
    expect(clean.code, output(clean)).toBe(0);
    expect(clean.stdout).toContain('supergraph.graphql and clients/api.graphql are up to date.');
    const supergraph = join(copy, 'supergraph.graphql');
    writeFileSync(supergraph, readFileSync(supergraph, 'utf8').replace('type Product', 'type Product_edited'));
    const stale = await pnpm(copy, 'compose', '--check');
    expect(stale.code, output(stale)).toBe(1);
    expect(stale.stderr).toContain('supergraph.graphql is stale: run `pnpm compose` and commit it.');
  });

  it('pnpm schema:check fails on a subgraph SDL that does not compose', async () => {
    const sdl = join(copy, 'subgraphs', 'inventory', 'src', 'schema.graphql');
    const text = readFileSync(sdl, 'utf8');
    expect(text).toContain('@requires(fields: "price weight")');
    writeFileSync(sdl, text.replace('@requires(fields: "price weight")', '@requires(fields: "price noSuchField")'));
    const result = await pnpm(copy, 'schema:check');
    expect(result.code, output(result)).toBe(1);
    expect(result.stderr).toMatch(/^schema:check: /);
    expect(result.stderr).toContain('noSuchField');
  });
});
