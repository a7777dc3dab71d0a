// `pnpm documents:extract <dir> [--out FILE] [--check]`: reads one client's operations
// (graphql()/gql calls, /* GraphQL */ templates, .graphql files; `${FRAGMENT}` interpolation
// included), validates them against the API schema clients/api.graphql and writes the
// trusted-documents manifest the gateway reads (TRUSTED_DOCUMENTS). The manifest comes from
// the same client-preset run as the client's typed documents (client-documents.ts), so its
// ids are the ones the client sends. Anything unreadable or invalid fails the run, naming the
// file; `--check` also fails when the committed manifest differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isMainModule, parseCommand } from '@trellis/config/cli';

const SPEC = {
  command: 'pnpm documents:extract',
  usage: '<client dir> [--out FILE] [--check]',
  help: `Reads one client's operations, validates them against clients/api.graphql and writes its
trusted-documents manifest.

  --out FILE  where to write it (default: <client dir>/persisted-operations.json)
  --check     write nothing; exit 1 when the committed manifest differs`,
  options: { out: { type: 'string' }, check: { type: 'boolean' } },
  positionals: [1, 1],
} as const;

async function main(): Promise<void> {
  const { values, positionals } = parseCommand(SPEC);
  const dir = resolve(positionals[0]!);
  const out = resolve(values.out ?? resolve(dir, 'persisted-operations.json'));
  // Loaded only once the arguments are good: `--help` and refusals answer without it.
  const { ClientDocumentsError, generateClient, manifestText } = await import('./client-documents.ts');
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

if (isMainModule(import.meta.url)) await main();
