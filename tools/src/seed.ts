// `pnpm db:seed [--scale N] [--if-empty] [--yes]`: replaces every subgraph's data with the
// deterministic seed (or, with --if-empty, seeds only subgraphs that hold no data yet).
// Scale 1: 2,000 products, 20,000 reviews; scale 50: one million reviews. Replacing data
// asks first: --yes, or an answer on a terminal; without either it refuses and changes nothing.
//
// The arguments are read before the database and subgraph modules load (dynamic imports
// below), so `--help` and a refused flag answer at once.
import { exitWith } from '@trellis/config';
import { confirmOrExit, parseCommand, usageError } from '@trellis/config/cli';
import type { seedPlan as SeedPlan } from '@trellis/db/seed';

const SPEC = {
  command: 'pnpm db:seed',
  usage: '[--scale N] [--if-empty] [--yes]',
  help: `Seeds every subgraph (DATABASE_URL, or the embedded dev cluster) with the deterministic seed,
migrating first. Without --if-empty it REPLACES the data already there.

  --scale N    size: 1 (default) = 1,000 users, 2,000 products, 20,000 reviews, 5,000 orders;
               50 = one million reviews
  --if-empty   seed only subgraphs that hold no data yet (keeps everything else; no question)
  --yes        replace without asking (needed when there is no terminal to ask on)`,
  options: {
    scale: { type: 'string' },
    'if-empty': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
  },
} as const;

const { values } = parseCommand(SPEC);
const { seedPlan } = await import('@trellis/db/seed');
let plan: ReturnType<typeof SeedPlan>;
try {
  plan = seedPlan(values.scale === undefined ? 1 : Number(values.scale));
} catch {
  usageError(SPEC, `--scale must be a positive number (got '${values.scale}')`);
}
const mode = values['if-empty'] ? 'when-empty' : 'always';
if (mode === 'always')
  await confirmOrExit(SPEC, "Replace every subgraph's data with the seed?", { yes: values.yes === true });
const [{ openToolDatabase }, { loadDefinitions, prepareSubgraph }] = await Promise.all([
  import('./database.ts'),
  import('./subgraphs.ts'),
]);
const database = await openToolDatabase((line) => process.stdout.write(`${line}\n`));
try {
  for (const definition of await loadDefinitions()) {
    const started = performance.now();
    const { seeded } = await prepareSubgraph(definition, database.url, { seed: mode, plan });
    const took = Math.round(performance.now() - started);
    process.stdout.write(seeded ? `seeded ${definition.name} in ${took} ms\n` : `${definition.name} has data; kept\n`);
  }
  process.stdout.write(
    `scale ${plan.scale}: ${plan.users} users, ${plan.products} products, ${plan.reviews} reviews, ${plan.orders} orders\n`,
  );
} catch (error) {
  await database.stop();
  exitWith(`db:seed: ${(error as Error).message}`);
}
await database.stop();
