// `pnpm documents:extract <dir> [--out FILE] [--check]`: reads one client's operations
// (graphql()/gql calls, /* GraphQL */ templates, .graphql files; `${FRAGMENT}` interpolation
// included), validates them against the API schema clients/api.graphql and writes the
// trusted-documents manifest the gateway reads (TRUSTED_DOCUMENTS). The manifest comes from
// the same client-preset run as the client's typed documents (client-documents.ts), so its
// ids are the ones the client sends. Anything unreadable or invalid fails the run, naming the
// file; `--check` also fails when the committed manifest differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClientDocumentsError, generateClient, manifestText } from './client-documents.ts';

const USAGE = 'usage: pnpm documents:extract <client dir> [--out FILE] [--check]';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(
      `${USAGE}\n\nWrites the client's trusted-documents manifest (default: <client dir>/persisted-operations.json);\n--check compares instead of writing.\n`,
    );
    return;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const dir = resolve(positionals[0]!);
  const out = resolve(values.out ?? resolve(dir, 'persisted-operations.json'));
  let text: string;
  let count: number;
  try {
    const { manifest } = await generateClient(dir);
    text = manifestText(manifest);
    count = manifest.operations.length;
  } catch (error) {
    if (!(error instanceof ClientDocumentsError)) throw error;
    process.stderr.write(`documents:extract: ${error.message}\n`);
    process.exit(1);
  }
  const where = relative(process.cwd(), out);
  if (values.check) {
    if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
      process.stderr.write(`${where} is stale: run pnpm documents:extract without --check\n`);
      process.exit(1);
    }
    process.stdout.write(`${count} operations valid; ${where} up to date\n`);
    return;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${count} operations to ${where}\n`);
}

function parse() {
  return parseArgs({
    options: { out: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
