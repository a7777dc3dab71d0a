// Deterministic users: ids 1..plan.users, names from fixed lists, one bulk statement.
import type { Database } from '@trellis/db';
import { hashMod, type SeedPlan, sqlTextArray } from '@trellis/db/seed';
import type { schema } from './schema.ts';

const FIRST = [
  'Ada',
  'Alan',
  'Barbara',
  'Claude',
  'Dennis',
  'Edsger',
  'Frances',
  'Grace',
  'Hedy',
  'John',
  'Katherine',
  'Ken',
  'Linus',
  'Margaret',
  'Radia',
  'Tim',
];
const LAST = [
  'Allen',
  'Berners-Lee',
  'Dijkstra',
  'Hamilton',
  'Hopper',
  'Johnson',
  'Kernighan',
  'Lamarr',
  'Liskov',
  'Lovelace',
  'McCarthy',
  'Perlman',
  'Ritchie',
  'Shannon',
  'Thompson',
  'Turing',
];

export async function seedUsers({ sql }: Database<typeof schema>, plan: SeedPlan): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`truncate accounts.users restart identity`;
    await tx.unsafe(`
      insert into accounts.users (id, name, username, email, created_at)
      select i, first || ' ' || last,
        lower(first) || '.' || lower(replace(last, '-', '')) || i,
        lower(first) || '.' || lower(replace(last, '-', '')) || i || '@example.com',
        timestamptz '2024-01-01 00:00:00Z' + (i * interval '1 minute') * (525600.0 / ${plan.users})
      from generate_series(1, ${plan.users}) as i,
        lateral (select (${sqlTextArray(FIRST)})[1 + ${hashMod('i', 1, FIRST.length)}] as first,
                        (${sqlTextArray(LAST)})[1 + ${hashMod('i', 2, LAST.length)}] as last) as names`);
    await tx`select setval(pg_get_serial_sequence('accounts.users', 'id'), ${plan.users})`;
  });
  await sql`analyze accounts.users`;
}
