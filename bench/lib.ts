// Shared by the benchmarks: timing statistics, machine description, and writing a
// section of docs/benchmarks.md (each benchmark owns one section, replaced on each run).
import { execFileSync, execSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import {
  type CommandSpec,
  numberOption,
  type ParseArgsOptionsConfig,
  type Parsed,
  parseCommand,
} from '@trellis/config/cli';
import { freePort } from '@trellis/db/embedded';
import { parseAllDocuments } from 'yaml';
import { childEnv, runCommand } from '../tools/src/process.ts';

export const ROOT = join(import.meta.dirname, '..');

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns milliseconds per run. */
export async function time(fn: () => Promise<unknown>, runs: number, warmup = Math.ceil(runs / 10)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let pg = '';
  try {
    pg = execSync('psql --version', { encoding: 'utf8' }).trim();
  } catch {}
  return `${cpus().length} × ${cpu}, Node ${process.version}${pg ? `, ${pg}` : ''}`;
}

export const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

/** Replaces (or appends) the section between `<!-- bench:NAME -->` markers. */
export function writeSection(name: string, markdown: string): void {
  const path = join(ROOT, 'docs', 'benchmarks.md');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let doc = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmarks\n\nEach section is written by the benchmark named in it; rerun the command to refresh it.\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const at = doc.indexOf(start);
  doc =
    at === -1
      ? `${doc.trimEnd()}\n\n${block}\n`
      : `${doc.slice(0, at)}${block}${doc.slice(doc.indexOf(end) + end.length)}`;
  writeFileSync(path, doc);
}

/** A target's medians in a ../shared/bench results file (`medians[target]`). */
export interface SharedBenchMedians {
  runs: number;
  rps: number;
  p50: number;
  p99: number;
  peakRssMB: number;
  cpuMsPerReq: number;
  gatewayCpuPct: number;
  subgraphFetchesPerReq: number;
  /** CPU of the load generator (autocannon, on CPU 0 with the subgraphs), percent of one core. */
  loadgenCpuPct?: number;
  errors: number;
}

/**
 * The gateway's production command, read from the deployment files rather than retyped: the
 * image's CMD (ops/Dockerfile) — which Kubernetes and compose run too (production-command
 * test) — under the gateway pod's memory limit (ops/k8s/base/gateway.yaml), as MEMORY_LIMIT,
 * since this machine has no container limit for ops/start.sh to find.
 */
export function deployedGateway(): { command: string[]; memoryLimit: string } {
  const dockerfile = readFileSync(join(ROOT, 'ops', 'Dockerfile'), 'utf8');
  const cmd = [...dockerfile.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1)?.[1];
  if (!cmd) throw new Error('ops/Dockerfile has no CMD');
  const command = JSON.parse(cmd) as string[];
  const deployment = parseAllDocuments(readFileSync(join(ROOT, 'ops', 'k8s', 'base', 'gateway.yaml'), 'utf8'))
    .map((doc) => doc.toJS())
    .find((doc) => doc?.kind === 'Deployment');
  const container = deployment?.spec.template.spec.containers[0];
  if (JSON.stringify(container?.command.slice(0, command.length)) !== JSON.stringify(command))
    throw new Error('the Kubernetes gateway runs another command than the image CMD: run `pnpm k8s`');
  return { command, memoryLimit: String(container.resources.limits.memory) };
}

/** The deployed gateway command line for ../shared/bench (the launcher by its absolute path). */
export function deployedGatewayCommand(): string {
  const { command, memoryLimit } = deployedGateway();
  const [launcher = '', ...rest] = command;
  return `env MEMORY_LIMIT=${memoryLimit} ${[join(ROOT, launcher), ...rest].join(' ')} --supergraph {supergraph} --port {port}`;
}

/** The built gateway as production runs it (its deployed command), for ../shared/bench. */
export const GATEWAY_COMMAND = deployedGatewayCommand();

/** Builds the gateway and copies ../shared/bench to `benchDir` (npm install, once). */
export function prepareSharedBench(benchDir: string): void {
  execFileSync('pnpm', ['run', 'build', '--if-stale', 'gateway'], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(join(benchDir, 'node_modules'))) {
    cpSync(join(ROOT, '..', 'shared', 'bench'), benchDir, {
      recursive: true,
      filter: (src) => !src.includes('node_modules') && !src.includes('.run'),
    });
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: benchDir, stdio: 'inherit' });
  }
}

/**
 * Builds the gateway, copies ../shared/bench to `benchDir` (npm install, once) and runs its
 * `run.mjs` on free ports with `targets` (name → command, or a built-in name as its own
 * command), alternated in one run. Resolves to the run's results file.
 */
export async function runSharedBench(
  benchDir: string,
  settings: { rounds: string; duration: string; warmup: string },
  targets: Record<string, string>,
): Promise<string> {
  prepareSharedBench(benchDir);
  // Free ports so other runs on the machine do not clash.
  const [port, subgraphPort] = [await freePort(), await freePort()];
  const args = [
    'run.mjs',
    '--rounds',
    settings.rounds,
    '--duration',
    settings.duration,
    '--warmup',
    settings.warmup,
    '--port',
    String(port),
    '--subgraph-port',
    String(subgraphPort),
    ...Object.entries(targets).map(([name, command]) => (command === name ? name : `${name}=${command}`)),
  ];
  const result = await runCommand('node', args, { cwd: benchDir, timeoutMs: 60 * 60_000 });
  process.stdout.write(result.stdout);
  if (result.code !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`bench run failed (exit ${result.code})`);
  }
  const latest = readdirSync(join(benchDir, '.run'))
    .filter((file) => file.startsWith('results-') && file.endsWith('.json') && !file.endsWith('.sink.json'))
    .sort()
    .at(-1);
  if (!latest) throw new Error('no results file');
  return join(benchDir, '.run', latest);
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether load generator and target can be kept on separate CPUs (0 and 1). Decided once, when
 * this module loads: a benchmark that pins itself (`taskset -p`) narrows its own affinity, and
 * `availableParallelism()` follows it — asked again after that, this answered "no", and every
 * process it then started inherited the benchmark's one CPU (bench:cors measured its targets
 * and autocannon sharing CPU 0).
 */
const PINNABLE = availableParallelism() >= 2 && hasTaskset();
export const canPin = () => PINNABLE;

/**
 * The environment that raises the gateway's anonymous rate-limit budget for a benchmark:
 * ../shared/bench's clients are one address, and the deployed budget (about 15,000 of its deep
 * query a minute) would refuse most of a fast run with 429s. The limiter still decides every
 * request (its cost stays measured); the budget answers them instead of refusing them.
 */
export const BENCH_ANON_BUDGET = { RATE_LIMIT_ANON_POINTS: '1000000000000' } as const;

/** BENCH_ANON_BUDGET as `env` arguments (for ../shared/bench target command lines). */
export const BENCH_ANON_BUDGET_ENV = Object.entries(BENCH_ANON_BUDGET)
  .map(([name, value]) => `${name}=${value}`)
  .join(' ');

/** A benchmark's child process: a shell command line in its own process group. */
export interface BenchProcess {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Signals the whole process group (never throws). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the whole process group. */
  stop(): void;
}

/**
 * Starts `command` (a shell command line) in `cwd` in its own process group, in production
 * mode, pinned to CPU `cpu` when the machine allows (canPin), output discarded.
 */
export function startPinned(
  command: string,
  options: { cwd: string; cpu: number; env?: Record<string, string> },
): BenchProcess {
  const line = canPin() ? `exec taskset -c ${options.cpu} ${command}` : `exec ${command}`;
  const child = spawn('sh', ['-c', line], {
    cwd: options.cwd,
    env: childEnv({ NODE_ENV: 'production', ...options.env }),
    stdio: 'ignore',
    detached: true,
  });
  const pid = child.pid as number;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {}
  };
  return { pid, exited, signal, stop: () => signal('SIGKILL') };
}

/**
 * Throws unless process `pid` runs on CPU `cpu` only (when pinning is possible): a benchmark
 * whose processes silently share a CPU measures the sharing (see canPin).
 */
export function assertPinned(pid: number, cpu: number, what: string): void {
  if (!canPin()) return;
  const list = execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' })
    .trim()
    .split(': ')
    .at(-1);
  if (list !== String(cpu)) throw new Error(`${what} (pid ${pid}) runs on CPUs ${list}, not on CPU ${cpu} alone`);
}

export const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  statusCodeStats?: Record<string, { count: number }>;
}

/**
 * autocannon in its own process (on CPU 0 when it can be pinned, unless `pin: false`): POSTs
 * `body` with `headers`; JSON result.
 */
export async function autocannon(
  url: string,
  options: { seconds: number; connections: number; body: string; headers?: Record<string, string>; pin?: boolean },
): Promise<AutocannonResult> {
  const bin = join(ROOT, 'bench/node_modules/.bin/autocannon');
  const args = ['-j', '-c', String(options.connections), '-d', String(options.seconds), '-m', 'POST'];
  for (const [name, value] of Object.entries({ 'content-type': 'application/json', ...options.headers }))
    args.push('-H', `${name}=${value}`);
  args.push('-b', options.body, url);
  const pinned = (options.pin ?? true) && canPin();
  const result = await runCommand(pinned ? 'taskset' : bin, pinned ? ['-c', '0', bin, ...args] : args, {
    cwd: ROOT,
    timeoutMs: (options.seconds + 60) * 1000,
  });
  if (result.code !== 0) throw new Error(`autocannon failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as AutocannonResult;
}

/**
 * A benchmark's arguments (parseCommand: --help, unknown flags refused with exit 2); an option
 * whose default is a number must be given a number ≥ 0.
 */
export function parseBenchArgs<const O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): Parsed<O> {
  const parsed = parseCommand(spec);
  for (const [name, option] of Object.entries(spec.options))
    if (option.type === 'string' && typeof option.default === 'string' && /^\d+$/.test(option.default))
      numberOption(spec, name, (parsed.values as Record<string, string | undefined>)[name]);
  return parsed;
}

/** Help lines of sharedBenchOptions. */
export const SHARED_BENCH_HELP = `  --rounds N      rounds of ../shared/bench, targets alternated in each
  --duration S    seconds measured per target and round
  --warmup S      seconds of warm-up per target and round
  --bench DIR     where ../shared/bench is copied and installed
  --results FILE  re-render a finished run's saved figures instead of measuring`;

/** Command-line options of a benchmark that drives ../shared/bench (and re-renders a saved run with --results). */
export const sharedBenchOptions = (benchDir: string) =>
  ({
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    bench: { type: 'string', default: benchDir },
    results: { type: 'string' },
  }) as const;

/** Saves a benchmark's own figures beside ../shared/bench's results; returns the file (for --results). */
export function saveRun(benchDir: string, name: string, figures: unknown): string {
  mkdirSync(join(benchDir, '.run'), { recursive: true });
  const file = join(benchDir, '.run', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(figures, null, 2));
  return file;
}

/** A ../shared/bench results file: medians by target, settings, and each run (with its load average). */
export function readSharedBenchResults<Target extends string>(file: string) {
  return JSON.parse(readFileSync(file, 'utf8')) as {
    medians: Record<Target, SharedBenchMedians>;
    settings: { connections: number; duration: number; warmup: number; rounds: number };
    runs: {
      target: string;
      round: number;
      loadavg1?: number;
      rps: number;
      cpuMsPerReq: number;
      gatewayCpuPct: number;
    }[];
  };
}
