// Vitest global setup for integration and e2e tiers: provides a Postgres server URL —
// DATABASE_URL when set, otherwise a throwaway embedded Postgres — to every test file.
// Each test then creates (and drops) its own database on that server.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@trellis/db/embedded';
import type { TestProject } from 'vitest/node';
import { testEnv } from './env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres server URL where tests may create databases. */
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (testEnv.DATABASE_URL) {
    project.provide('databaseUrl', testEnv.DATABASE_URL);
    return async () => {};
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'trellis-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false, database: 'postgres' });
  project.provide('databaseUrl', pg.url);
  return () => pg.stop();
}
