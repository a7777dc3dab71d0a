// `pnpm db:seed [--scale N]`: replaces every subgraph's data with the deterministic seed.
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
    await prepareSubgraph(definition, database.url, { seed: 'always', plan });
    process.stdout.write(`seeded ${definition.name} in ${Math.round(performance.now() - started)} ms\n`);
  }
  process.stdout.write(
    `scale ${plan.scale}: ${plan.users} users, ${plan.products} products, ${plan.reviews} reviews, ${plan.orders} orders\n`,
  );
} catch (error) {
  await database.stop();
  exitWith(`db:seed: ${(error as Error).message}`);
}
await database.stop();
