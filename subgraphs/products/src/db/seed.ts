// Deterministic catalogue seed: one INSERT … SELECT over generate_series, so a million
// rows take seconds. Product ids are 1..plan.products, as the other subgraphs assume.
import type { Database } from '@trellis/db';
import { hashMod, type SeedPlan, sqlTextArray } from '@trellis/db/seed';
import type { schema } from './schema.ts';

const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Ergonomic',
  'Handmade',
  'Lightweight',
  'Modern',
  'Rugged',
  'Sleek',
  'Vintage',
  'Smart',
  'Organic',
];
const MATERIALS = [
  'Bamboo',
  'Ceramic',
  'Cotton',
  'Granite',
  'Leather',
  'Linen',
  'Oak',
  'Steel',
  'Titanium',
  'Wool',
  'Copper',
  'Glass',
];
const NOUNS = [
  'Backpack',
  'Chair',
  'Desk Lamp',
  'Headphones',
  'Kettle',
  'Keyboard',
  'Mug',
  'Notebook',
  'Skillet',
  'Sneakers',
  'Tent',
  'Watch',
  'Blender',
  'Jacket',
];
export const CATEGORIES = [
  'books',
  'electronics',
  'garden',
  'home',
  'kitchen',
  'office',
  'outdoors',
  'sports',
  'toys',
  'apparel',
];

export async function seedProducts({ sql }: Database<typeof schema>, plan: SeedPlan): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`truncate products.products restart identity`;
    await tx.unsafe(`
      insert into products.products (id, name, description, category, price_cents, weight_grams, created_at, updated_at)
      select i,
        (${sqlTextArray(ADJECTIVES)})[1 + ${hashMod('i', 1, ADJECTIVES.length)}] || ' ' ||
        (${sqlTextArray(MATERIALS)})[1 + ${hashMod('i', 2, MATERIALS.length)}] || ' ' ||
        (${sqlTextArray(NOUNS)})[1 + ${hashMod('i', 3, NOUNS.length)}] || ' ' || i,
        'A dependable ' || lower((${sqlTextArray(NOUNS)})[1 + ${hashMod('i', 3, NOUNS.length)}]) ||
          ' for everyday use. Model ' || i || ', built to last.',
        (${sqlTextArray(CATEGORIES)})[1 + ${hashMod('i', 4, CATEGORIES.length)}],
        499 + ${hashMod('i', 5, 49_500)},
        100 + ${hashMod('i', 6, 19_900)},
        timestamptz '2025-01-01 00:00:00Z' + (i * interval '1 minute') * (525600.0 / ${plan.products}),
        timestamptz '2025-01-01 00:00:00Z' + (i * interval '1 minute') * (525600.0 / ${plan.products})
      from generate_series(1, ${plan.products}) as i`);
    await tx`select setval(pg_get_serial_sequence('products.products', 'id'), ${plan.products})`;
  });
  await sql`analyze products.products`;
}
