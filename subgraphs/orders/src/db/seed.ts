// Deterministic orders with one to four lines each, totals consistent with their lines.
import type { Database } from '@trellis/db';
import { hashMod, type SeedPlan } from '@trellis/db/seed';
import type { schema } from './schema.ts';

export async function seedOrders({ sql }: Database<typeof schema>, plan: SeedPlan): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`truncate orders.invoices, orders.order_lines, orders.orders restart identity`;
    await tx.unsafe(`
      insert into orders.orders (id, buyer_id, status, total_cents, created_at)
      select i, 1 + ${hashMod('i', 21, plan.users)},
        (array['PENDING','PAID','SHIPPED','DELIVERED','DELIVERED','DELIVERED','CANCELLED']::orders.order_status[])[1 + ${hashMod('i', 22, 7)}],
        0,
        timestamptz '2025-01-01 00:00:00Z' + ${hashMod('i', 23, 600_000)} * interval '1 minute'
      from generate_series(1, ${plan.orders}) as i`);
    await tx.unsafe(`
      insert into orders.order_lines (order_id, line_no, product_id, quantity, unit_price_cents)
      select o, l, 1 + ${hashMod('o * 8 + l', 24, plan.products)}, 1 + ${hashMod('o * 8 + l', 25, 3)},
        499 + ${hashMod('o * 8 + l', 26, 49_500)}
      from generate_series(1, ${plan.orders}) as o, generate_series(1, 1 + ${hashMod('o', 27, 4)}) as l`);
    await tx.unsafe(`
      update orders.orders o set total_cents = t.total
      from (select order_id, sum(quantity * unit_price_cents) as total from orders.order_lines group by order_id) t
      where t.order_id = o.id`);
    await tx`select setval(pg_get_serial_sequence('orders.orders', 'id'), ${plan.orders})`;
  });
  await sql`analyze orders.orders`;
  await sql`analyze orders.order_lines`;
}
