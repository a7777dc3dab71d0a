// Where the usage tools read recorded usage: `--usage FILE` (or SCHEMA_USAGE_FILE), else the
// database at USAGE_DATABASE_URL or DATABASE_URL, else nowhere ("no usage data").
import { toolEnv, usageEnv } from '../env.ts';
import { readUsageDatabase } from './database.ts';
import { readUsageFile, type UsageSnapshot, withinDays } from './snapshot.ts';

export interface UsageOptions {
  file?: string | undefined;
  windowDays?: number | undefined;
  /** The usage database (tests); @default USAGE_DATABASE_URL, else DATABASE_URL */
  databaseUrl?: string | undefined;
}

/** Reads `--usage FILE` and `--window-days N` from argv (in the style of the other flags). */
export function usageOptions(argv: readonly string[]): UsageOptions {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const days = value('--window-days');
  if (days !== undefined && !/^[1-9]\d{0,3}$/.test(days))
    throw new Error(`--window-days must be a whole number of days, got ${JSON.stringify(days)}`);
  return { file: value('--usage'), windowDays: days === undefined ? undefined : Number(days) };
}

export interface LoadedUsage {
  snapshot?: UsageSnapshot | undefined;
  /** Why there is no usable snapshot (shown to the user). */
  missing?: string | undefined;
}

export async function loadUsage(options: UsageOptions): Promise<LoadedUsage> {
  const windowDays = options.windowDays ?? usageEnv.SCHEMA_USAGE_WINDOW_DAYS;
  const file = options.file ?? usageEnv.SCHEMA_USAGE_FILE;
  let snapshot: UsageSnapshot | undefined;
  if (file) snapshot = withinDays(readUsageFile(file), windowDays);
  else {
    const url = options.databaseUrl ?? usageEnv.USAGE_DATABASE_URL ?? toolEnv.DATABASE_URL;
    if (!url) return { missing: 'no usage source: set DATABASE_URL (or USAGE_DATABASE_URL) or pass --usage FILE' };
    try {
      snapshot = await readUsageDatabase(url, windowDays);
    } catch (error) {
      return { missing: `usage database unreachable (${(error as Error).message})` };
    }
    if (!snapshot) return { missing: 'the database has no gateway_usage tables (no gateway has recorded usage there)' };
  }
  if (snapshot.totalRequests === 0)
    return { missing: `no operations recorded in the last ${windowDays} days (${snapshot.source})` };
  return { snapshot };
}
