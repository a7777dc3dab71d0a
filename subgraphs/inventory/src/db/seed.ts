// Deterministic stock for products 1..plan.products; about one in ten is out of stock.
import type { Database } from '@trellis/db';
import { hashMod, type SeedPlan } from '@trellis/db/seed';
import type { schema } from './schema.ts';

export async function seedStock({ sql }: Database<typeof schema>, plan: SeedPlan): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`truncate inventory.stock`;
    await tx.unsafe(`
      insert into inventory.stock (product_id, quantity)
      select i, case when ${hashMod('i', 7, 10)} = 0 then 0 else 1 + ${hashMod('i', 8, 250)} end
      from generate_series(1, ${plan.products}) as i`);
  });
  await sql`analyze inventory.stock`;
}
