// `pnpm schema:usage <Type.field> [--usage FILE] [--window-days N] [--json]`: who used a schema
// coordinate (operations, clients and versions, counts, last seen) and which registered
// clients' trusted documents use it. `pnpm schema:usage --deprecated`: the same for every
// @deprecated member of the API schema (clients/api.graphql), so a team knows when removal is
// safe. Usage is read as `pnpm schema:check` reads it (tools/src/usage/source.ts).
import { readFileSync } from 'node:fs';
import { isMainModule, numberOption, parseCommand, usageError } from '@trellis/config/cli';
import type { loadUsage } from './source.ts';

const SPEC = {
  command: 'pnpm schema:usage',
  usage: '(<Type.field> | --deprecated) [--usage FILE] [--window-days N] [--json]',
  help: `Who used a schema coordinate (Type, Type.field, Type.field(arg:), Enum.VALUE) over the
window (default 30 days), from DATABASE_URL / USAGE_DATABASE_URL or an exported usage file
(pnpm usage:export), and which clients' trusted documents use it. --deprecated reports every
@deprecated member of clients/api.graphql.

  --deprecated       every @deprecated member instead of one coordinate
  --usage FILE       read usage from an exported file instead of the database
  --window-days N    days of usage to read (default SCHEMA_USAGE_WINDOW_DAYS, 30)
  --json             print JSON`,
  options: {
    deprecated: { type: 'boolean', default: false },
    usage: { type: 'string' },
    'window-days': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  positionals: [0, 1],
} as const;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPEC, argv);
  if (values.deprecated === (positionals.length === 1)) usageError(SPEC, 'give one coordinate or --deprecated');
  const windowDays = numberOption(SPEC, 'window-days', values['window-days'], { min: 1, integer: true });
  // Loaded only once the arguments are good: `--help` and refusals answer without them.
  const [{ buildSchema }, { API_SCHEMA_PATH }, { manifestUses }, report, { UsageFileError }, source] =
    await Promise.all([
      import('graphql'),
      import('../compose.ts'),
      import('./manifests.ts'),
      import('./report.ts'),
      import('./snapshot.ts'),
      import('./source.ts'),
    ]);
  const { coordinateUsage, coordinateUsageText, deprecatedCoordinates } = report;
  const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
  let loaded: Awaited<ReturnType<typeof loadUsage>>;
  try {
    loaded = await source.loadUsage({ file: values.usage, windowDays });
  } catch (error) {
    if (!(error instanceof UsageFileError)) throw error;
    process.stderr.write(`schema:usage: ${error.message}\n`);
    return 1;
  }
  const manifests = manifestUses(schema);
  const targets = values.deprecated
    ? deprecatedCoordinates(schema)
    : [{ coordinate: positionals[0] as string, reason: undefined }];
  const entries = targets.map((t) => ({
    ...coordinateUsage(t.coordinate, loaded.snapshot, manifests),
    deprecationReason: t.reason,
  }));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ usage: loaded.snapshot ? { source: loaded.snapshot.source, windowDays: loaded.snapshot.windowDays, totalRequests: loaded.snapshot.totalRequests } : null, noUsage: loaded.missing ?? null, coordinates: entries }, null, 2)}\n`,
    );
    return 0;
  }
  if (!loaded.snapshot) process.stdout.write(`no usage data: ${loaded.missing}; showing trusted documents only\n`);
  if (values.deprecated && entries.length === 0)
    process.stdout.write('no @deprecated members in clients/api.graphql\n');
  for (const entry of entries) process.stdout.write(coordinateUsageText(entry, loaded.snapshot));
  return 0;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
