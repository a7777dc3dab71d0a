// Environment of the developer tools (dev runner, migrate, seed): the only place they read
// process.env. DATABASE_URL is optional here: without it an embedded Postgres is used.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, loadEnv, z } from '@trellis/config';
import { DEV_WEBHOOK } from '../../subgraphs/orders/src/env.ts';
import { ROOT } from './workspace.ts';

export const toolEnv = loadEnv({
  DATABASE_URL: common.DATABASE_URL.optional(),
  /** Where the embedded Postgres keeps its data. */
  TRELLIS_DATA_DIR: z.string().default(join(ROOT, '.data', 'postgres')),
  /** Port of the embedded Postgres (a free one when unset). */
  EMBEDDED_PG_PORT: common.PORT.optional(),
  LOG_LEVEL: common.LOG_LEVEL,
  /** `pnpm dev` shifts every port (gateway 4000, subgraphs 4001…) by this much. */
  DEV_PORT_OFFSET: z.coerce.number().int().min(0).max(60000).default(0),
  /** The development webhook sink (order confirmations): port before the offset, and its key. */
  WEBHOOK_SINK_PORT: common.PORT.default(4199),
  WEBHOOK_SINK_HOST: common.HOST,
  NOTIFY_WEBHOOK_SECRET: z.string().min(1).default(DEV_WEBHOOK.secret),
});

/** Scratch folder for tests' embedded Postgres (reachable by the postgres OS user). */
export const scratchDir = (name: string) => join(tmpdir(), name);

/** `pnpm schema:check`: the revision to compare with (see tools/src/schema-check.ts). */
export const schemaCheckEnv = loadEnv({ SCHEMA_BASE: z.string().optional() });

/**
 * Usage-aware checks (tools/src/usage): where recorded usage is read — USAGE_DATABASE_URL,
 * else DATABASE_URL, or an exported file (SCHEMA_USAGE_FILE, `--usage FILE`) — and the window.
 */
export const usageEnv = loadEnv({
  USAGE_DATABASE_URL: common.DATABASE_URL.optional(),
  SCHEMA_USAGE_FILE: z.string().optional(),
  SCHEMA_USAGE_WINDOW_DAYS: z.coerce.number({ message: 'must be a number' }).int().min(1).max(3650).default(30),
});
