// ops/start.sh, the production launcher, and the checks around it: on bad input each refuses
// with one line saying what to do — a missing bundle, a Node older than the supported release,
// a memory limit too small for the heap — and otherwise execs node itself (no wrapper process)
// with the heap sized from the limit and the telemetry preload beside the bundle. Also the
// bundle staleness check (`pnpm build --check`, `--if-stale`) and tools/bin/check-node.mjs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTarget, staleReason } from '../src/build.ts';
import { childEnv } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

const dir = mkdtempSync(join(tmpdir(), 'trellis-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in service: its bundle reports how it was started; its preload marks that it ran.
mkdirSync(join(dir, 'svc', 'dist'), { recursive: true });
const bundle = join(dir, 'svc', 'dist', 'main.mjs');
writeFileSync(join(dir, 'svc', 'dist', 'setup.mjs'), 'globalThis.preloaded = true;\n');
writeFileSync(
  bundle,
  `import { getHeapStatistics } from 'node:v8';
console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(2),
  preloaded: globalThis.preloaded === true, heapLimitMib: getHeapStatistics().heap_size_limit / 2 ** 20 }));\n`,
);

function start(args: string[], env: Record<string, string | undefined> = {}) {
  const merged = childEnv({ MEMORY_LIMIT: undefined, NODE_OPTIONS: undefined, ...env });
  return spawnSync(join(ROOT, 'ops', 'start.sh'), args, { encoding: 'utf8', env: merged });
}
const oneLine = (text: string) => text.trim().split('\n');

describe('ops/start.sh', () => {
  it('execs node on the bundle with the heap sized from MEMORY_LIMIT and the preload beside it', () => {
    const run = start(
      ['--semi-space-mib', '16', '--outside-heap-mib', '128', '--min-heap-mib', '256', bundle, '--port', '1'],
      {
        MEMORY_LIMIT: '640Mi',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const seen = JSON.parse(run.stdout);
    // 640 - 3 × 16 (young generation) - 128 (outside the heap).
    expect(seen.execArgv).toEqual(
      expect.arrayContaining(['--max-semi-space-size=16', '--max-old-space-size=464', '--import']),
    );
    expect(seen.argv).toEqual(['--port', '1']);
    expect(seen.preloaded).toBe(true);
    expect(seen.heapLimitMib).toBeGreaterThan(464);
    expect(seen.heapLimitMib).toBeLessThan(640);
    // exec: the process spawnSync started is node itself (same pid as the shell had).
    expect(seen.pid).toBe(run.pid);
  });

  it('takes MEMORY_LIMIT in bytes or as a Kubernetes quantity', () => {
    const bytes = JSON.parse(start([bundle], { MEMORY_LIMIT: String(640 * 2 ** 20) }).stdout);
    expect(bytes.execArgv).toContain('--max-old-space-size=464');
    const gib = JSON.parse(start([bundle], { MEMORY_LIMIT: '1Gi' }).stdout);
    expect(gib.execArgv).toContain(`--max-old-space-size=${1024 - 48 - 128}`);
  });

  it('refuses a memory limit too small for the minimum heap, with one line', () => {
    const run = start(['--min-heap-mib', '256', bundle], { MEMORY_LIMIT: '384Mi' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([
      `start: memory limit 384 MiB (MEMORY_LIMIT=384Mi) is too small for ${bundle}: 128 MiB outside the V8 heap and a 48 MiB young generation leave 208 MiB of heap, below its 256 MiB; raise the limit to at least 432 MiB`,
    ]);
    const bad = start([bundle], { MEMORY_LIMIT: 'lots' });
    expect(bad.status).toBe(1);
    expect(oneLine(bad.stderr)).toEqual([
      'start: MEMORY_LIMIT=lots is not a size (bytes, or a quantity such as 512Mi)',
    ]);
  });

  it('refuses a missing bundle, with one line saying how to build it', () => {
    const run = start(['gateway/dist/nothing-here.mjs']);
    expect(run.status).toBe(1);
    expect(oneLine(run.stderr)).toEqual([
      'start: gateway/dist/nothing-here.mjs is missing: run `pnpm build` first (the image builds it; `pnpm gateway` builds it when stale)',
    ]);
  });

  it('refuses a Node older than the supported release, with one line saying what to do', () => {
    const bin = join(dir, 'old-node');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v20.20.2\n', { mode: 0o755 });
    const run = start([bundle], { PATH: `${bin}:${childEnv().PATH}` });
    expect(run.status).toBe(1);
    expect(oneLine(run.stderr)).toEqual([
      'start: Node v20.20.2 is older than the supported 24.11: run `. ./bootstrap` (installs Node 24 from the npm registry into .node/ and puts it first on PATH), or use the image',
    ]);
  });

  it('names the error when node cannot start at all (a bad NODE_OPTIONS)', () => {
    const run = start([bundle], { NODE_OPTIONS: '--trace-gc' });
    expect(run.status).toBe(1);
    expect(oneLine(run.stderr)).toEqual([
      'start: `node --version` failed: node: --trace-gc is not allowed in NODE_OPTIONS',
    ]);
  });

  it('refuses unknown options with a usage line (exit 2)', () => {
    const run = start(['--heap', '1', bundle]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^start: unknown option --heap\nusage: ops\/start\.sh /);
    const notANumber = start(['--semi-space-mib', 'lots', bundle]);
    expect(notANumber.status).toBe(2);
    expect(notANumber.stderr).toMatch(/^start: --semi-space-mib takes a whole number of MiB\n/);
    const help = start(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: ops\/start\.sh /);
  });

  it('checks the same oldest Node as package.json engines, and so do bootstrap and check-node', () => {
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    const [, major, minor] = /^>=(\d+)\.(\d+)$/.exec(engines) ?? [];
    const script = readFileSync(join(ROOT, 'ops', 'start.sh'), 'utf8');
    expect(script).toContain(`NODE_MIN_MAJOR=${major}\n`);
    expect(script).toContain(`NODE_MIN_MINOR=${minor}\n`);
    const bootstrap = readFileSync(join(ROOT, 'bootstrap'), 'utf8');
    expect(bootstrap).toContain(`TRELLIS_NODE_MIN_MAJOR=${major}\n`);
    expect(bootstrap).toContain(`TRELLIS_NODE_MIN_MINOR=${minor}\n`);
    for (const file of ['.nvmrc', '.node-version'])
      expect(readFileSync(join(ROOT, file), 'utf8').trim(), file).toBe(major);
  });
});

describe('tools/bin/check-node.mjs (the root preinstall)', () => {
  function check(engines: string) {
    const at = join(dir, `check-${engines.replace(/\W/g, '')}`);
    mkdirSync(join(at, 'tools', 'bin'), { recursive: true });
    copyFileSync(join(ROOT, 'tools', 'bin', 'check-node.mjs'), join(at, 'tools', 'bin', 'check-node.mjs'));
    writeFileSync(join(at, 'package.json'), JSON.stringify({ engines: { node: engines } }));
    return spawnSync(process.execPath, [join(at, 'tools', 'bin', 'check-node.mjs')], { encoding: 'utf8' });
  }

  it('passes a supported Node and refuses an older one with one line saying what to do', () => {
    expect(check('>=1.0').status).toBe(0);
    const old = check('>=99.0');
    expect(old.status).toBe(1);
    expect(oneLine(old.stderr)).toEqual([
      `trellis: Node ${process.version} is older than the supported >=99.0: run \`. ./bootstrap\` (installs Node 99 from the npm registry into .node/ and puts it first on PATH), then run the command again`,
    ]);
  });
});

describe('bundle staleness (pnpm build --if-stale / --check)', () => {
  it('names a missing bundle, then a source newer than the bundle', async () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'src'), { recursive: true });
    writeFileSync(join(pkg, 'src', 'helper.ts'), 'export const answer: number = 42;\n');
    writeFileSync(join(pkg, 'src', 'main.ts'), "import { answer } from './helper.ts';\nconsole.log(answer);\n");
    const target = { name: 'pkg', dir: pkg, entries: { main: join(pkg, 'src', 'main.ts') } };
    expect(staleReason(target)).toMatch(/pkg\/dist\/main\.mjs is missing$/);
    await buildTarget(target);
    expect(staleReason(target)).toBeUndefined();
    expect(spawnSync(process.execPath, [join(pkg, 'dist', 'main.mjs')], { encoding: 'utf8' }).stdout).toBe('42\n');
    // An imported file (not only the entry) changing makes it stale.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(pkg, 'src', 'helper.ts'), later, later);
    expect(staleReason(target)).toMatch(/pkg\/src\/helper\.ts is newer than the pkg bundle$/);
  });

  it('refuses an unknown target (exit 2)', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/src/build.ts'), '--check', 'nope'], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^pnpm build: unknown target nope \(gateway, .*\)\nusage: pnpm build /);
  });
});
