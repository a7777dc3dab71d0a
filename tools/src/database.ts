// The database the tools work on: DATABASE_URL when set, else the embedded dev cluster
// (started on demand, stopped by the caller).
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startEmbeddedPostgres } from '@trellis/db/embedded';
import { scratchDir, toolEnv } from './env.ts';

export interface ToolDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** As root, Postgres runs as the `postgres` user: every ancestor must be world-searchable. */
function reachableByPostgresUser(path: string): boolean {
  if (process.getuid?.() !== 0) return true;
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      // Not created yet: its parent decides.
    }
  }
  return true;
}

export async function openToolDatabase(log: (line: string) => void = () => {}): Promise<ToolDatabase> {
  if (toolEnv.DATABASE_URL) return { url: toolEnv.DATABASE_URL, embedded: false, stop: async () => {} };
  let dataDir = toolEnv.TRELLIS_DATA_DIR;
  if (!reachableByPostgresUser(dataDir)) dataDir = join(scratchDir('trellis-dev'), 'postgres');
  log(`starting embedded Postgres (data in ${dataDir})`);
  const pg = await startEmbeddedPostgres({
    dataDir,
    ...(toolEnv.EMBEDDED_PG_PORT ? { port: toolEnv.EMBEDDED_PG_PORT } : {}),
    database: 'trellis',
  });
  return {
    url: pg.url,
    embedded: true,
    stop: async () => {
      // The server may already have exited (Ctrl-C reaches the whole process group).
      await Promise.race([pg.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
    },
  };
}
