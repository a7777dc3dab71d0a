// `pnpm db:migrate`: applies every subgraph's committed migrations (each with its own
// ledger), and the gateway's usage tables (gateway_usage), to DATABASE_URL, or to the
// embedded dev cluster when it is unset.
import { parseCommand } from '@trellis/config/cli';

parseCommand({
  command: 'pnpm db:migrate',
  usage: '',
  help: "Applies every subgraph's committed migrations (each with its own ledger) to DATABASE_URL,\nor to the embedded dev cluster when it is unset. Takes no arguments.",
  options: {},
});

// Loaded only once the arguments are good: `--help` answers without them.
const { exitWith } = await import('@trellis/config');
const { openToolDatabase } = await import('./database.ts');
const { loadDefinitions, prepareSubgraph } = await import('./subgraphs.ts');
const { migrateGatewayUsage } = await import('./usage/database.ts');

const database = await openToolDatabase((line) => process.stdout.write(`${line}\n`));
try {
  for (const definition of await loadDefinitions()) {
    await prepareSubgraph(definition, database.url);
    process.stdout.write(`migrated ${definition.name}\n`);
  }
  await migrateGatewayUsage(database.url);
  process.stdout.write('migrated gateway_usage\n');
} catch (error) {
  await database.stop();
  exitWith(`db:migrate: ${(error as Error).message}`);
}
await database.stop();
