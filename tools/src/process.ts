// Spawning services and commands as real processes in tests: capture output, wait for
// readiness, stop with a signal and report how long it took.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT, SERVICE_NODE_FLAGS } from './workspace.ts';

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the process and everything it started (its own process group): test cleanup. */
  killAll(): void;
}

export function spawnService(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd: string,
  /** Node flags besides SERVICE_NODE_FLAGS (after them, so an `--import` may be TypeScript). */
  nodeFlags: readonly string[] = [],
): ServiceProcess {
  return spawnProcess(
    process.execPath,
    [...SERVICE_NODE_FLAGS, ...nodeFlags, script, ...args],
    { ...process.env, LOG_LEVEL: 'info', ...env } as NodeJS.ProcessEnv,
    cwd,
  );
}

/**
 * Starts a service with its production command (tools/src/runtime.ts: ops/start.sh on its
 * bundle, which execs node: the child is the service itself), from the repository root;
 * `--build` after the launcher rebuilds a stale bundle first.
 */
export function spawnDeployed(
  command: readonly string[],
  args: string[],
  env: Record<string, string | undefined>,
  options: { build?: boolean } = {},
): ServiceProcess {
  const [launcher = '', ...rest] = command;
  return spawnProcess(
    join(ROOT, launcher),
    [...(options.build ? ['--build'] : []), ...rest, ...args],
    // Without NODE_OPTIONS from this process (tsx, Vitest): only what the deployment sets.
    childEnv({ LOG_LEVEL: 'info', NODE_OPTIONS: undefined, ...env }),
    ROOT,
  );
}

function spawnProcess(file: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): ServiceProcess {
  const child = spawn(file, argv, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so cleanup reaches the services it spawns (pnpm dev) too.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const killAll = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  return { child, output: () => output, exited, killAll };
}

/**
 * The environment of a child process: this one's without Vitest's own markers (a nested
 * `vitest run` must start as a fresh run, not as a worker), plus `env` (undefined removes).
 */
export function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
  const merged: NodeJS.ProcessEnv = { ...base, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  return merged;
}

export interface CommandResult {
  /** Exit code, or null when it was killed (by a signal or the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output; killed (SIGKILL) after `timeoutMs`. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends whatever it started too (pnpm → node → workers).
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `url` until it answers `status` (default any 2xx), or throws after `timeoutMs`. */
export async function waitForStatus(
  url: string,
  timeoutMs = 20_000,
  accept = (s: number) => s >= 200 && s < 300,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      last = (await fetch(url)).status;
      if (accept(last)) return last;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer as expected within ${timeoutMs} ms (last status ${last})`);
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
