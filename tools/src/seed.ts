// `pnpm db:seed [--scale N] [--if-empty]`: replaces every subgraph's data with the
// deterministic seed (or, with --if-empty, seeds only subgraphs that hold no data yet).
// Scale 1: 2,000 products, 20,000 reviews; scale 50: one million reviews.
import { exitWith } from '@trellis/config';
import { parseScale, seedPlan } from '@trellis/db/seed';
import { openToolDatabase } from './database.ts';
import { loadDefinitions, prepareSubgraph } from './subgraphs.ts';

let plan: ReturnType<typeof seedPlan>;
try {
  plan = seedPlan(parseScale(process.argv.slice(2)));
} catch (error) {
  exitWith(`db:seed: ${(error as Error).message}`);
}
const database = await openToolDatabase((line) => process.stdout.write(`${line}\n`));
try {
  for (const definition of await loadDefinitions()) {
    const started = performance.now();
    const mode = process.argv.includes('--if-empty') ? 'when-empty' : 'always';
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
