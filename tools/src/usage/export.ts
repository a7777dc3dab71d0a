// `pnpm usage:export [--out FILE] [--window-days N]`: writes the usage recorded in
// gateway_usage (USAGE_DATABASE_URL, else DATABASE_URL) over the window (default 30 days) to a
// file, so a CI without production access can run `pnpm schema:check --usage FILE`.
// The arguments are read before the environment and database modules load (dynamic imports
// in main), so `--help` and a refused flag answer at once.
import { isMainModule, numberOption, parseCommand } from '@trellis/config/cli';

const SPEC = {
  command: 'pnpm usage:export',
  usage: '[--out FILE] [--window-days N]',
  help: `Writes the operation usage recorded by the gateways (gateway_usage at USAGE_DATABASE_URL or
DATABASE_URL) to FILE for \`pnpm schema:check --usage FILE\`.

  --out FILE        where to write (default usage-snapshot.json)
  --window-days N   days of usage to export (default SCHEMA_USAGE_WINDOW_DAYS, 30)`,
  options: {
    out: { type: 'string', default: 'usage-snapshot.json' },
    'window-days': { type: 'string' },
  },
} as const;

async function main(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPEC, argv);
  const { toolEnv, usageEnv } = await import('../env.ts');
  const windowDays =
    numberOption(SPEC, 'window-days', values['window-days'], { min: 1, integer: true }) ??
    usageEnv.SCHEMA_USAGE_WINDOW_DAYS;
  const url = usageEnv.USAGE_DATABASE_URL ?? toolEnv.DATABASE_URL;
  if (!url) {
    process.stderr.write(
      'usage:export: set DATABASE_URL (or USAGE_DATABASE_URL) to the database the gateways record usage in\n',
    );
    return 1;
  }
  const [{ readUsageDatabase }, { writeUsageFile }] = await Promise.all([
    import('./database.ts'),
    import('./snapshot.ts'),
  ]);
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

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
