// `pnpm usage:export [--out FILE] [--window-days N]`: writes the usage recorded in
// gateway_usage (USAGE_DATABASE_URL, else DATABASE_URL) over the window (default 30 days) to a
// file, so a CI without production access can run `pnpm schema:check --usage FILE`.
import { parseArgs } from 'node:util';
import { toolEnv, usageEnv } from '../env.ts';
import { readUsageDatabase } from './database.ts';
import { writeUsageFile } from './snapshot.ts';

const USAGE = 'usage: pnpm usage:export [--out FILE] [--window-days N]';

async function main(argv: string[]): Promise<number> {
  let values: { out: string; 'window-days'?: string | undefined; help: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        out: { type: 'string', default: 'usage-snapshot.json' },
        'window-days': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`usage:export: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(
      `${USAGE}\n\nWrites the operation usage recorded by the gateways (gateway_usage at USAGE_DATABASE_URL or\nDATABASE_URL) to FILE (default usage-snapshot.json) for \`pnpm schema:check --usage FILE\`.\n`,
    );
    return 0;
  }
  const windowDays = Number(values['window-days'] ?? usageEnv.SCHEMA_USAGE_WINDOW_DAYS);
  if (!(Number.isInteger(windowDays) && windowDays >= 1)) {
    process.stderr.write(`usage:export: --window-days must be a whole number of days\n${USAGE}\n`);
    return 2;
  }
  const url = usageEnv.USAGE_DATABASE_URL ?? toolEnv.DATABASE_URL;
  if (!url) {
    process.stderr.write(
      'usage:export: set DATABASE_URL (or USAGE_DATABASE_URL) to the database the gateways record usage in\n',
    );
    return 1;
  }
  const snapshot = await readUsageDatabase(url, windowDays);
  if (!snapshot) {
    process.stderr.write(
      'usage:export: the database has no gateway_usage tables (no gateway has recorded usage there)\n',
    );
    return 1;
  }
  writeUsageFile(values.out, { ...snapshot, source: 'database' });
  process.stdout.write(
    `wrote ${values.out}: ${snapshot.operations.length} operations, ${snapshot.totalRequests} requests over ${windowDays} days\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
