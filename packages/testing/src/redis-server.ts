// A private redis-server for tests that stop, hang or restart Redis (never the shared one):
// started on a free port, no persistence; `stop()` kills it, `start()` brings it back on the
// same port, `pause()`/`resume()` freeze it (SIGSTOP/SIGCONT) so commands hang unanswered.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '@trellis/db/embedded';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export interface PrivateRedis {
  port: number;
  url: string;
  /** The running server process (undefined while stopped). */
  readonly child: ChildProcess | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
}

/** Starts redis-server (from PATH) on a free port and waits until it accepts connections. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return child;
    },
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      for (let i = 0; i < 100; i++) {
        if (await accepting(port)) return;
        await sleep(50);
      }
      throw new Error('redis-server did not start');
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
  await redis.start();
  return redis;
}
