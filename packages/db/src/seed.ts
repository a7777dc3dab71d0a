// Seed sizing shared by every subgraph, so their deterministic seeds agree on ids:
// product 17 in reviews is product 17 in products and in inventory.

/** Row counts for `--scale N`. Scale 1 (default): thousands of products, tens of thousands
 * of reviews. Scale 50 reaches one million reviews. */
export interface SeedPlan {
  scale: number;
  users: number;
  products: number;
  reviews: number;
  orders: number;
}

export function seedPlan(scale = 1): SeedPlan {
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number (got ${scale})`);
  return {
    scale,
    users: Math.max(10, Math.round(1_000 * scale)),
    products: Math.max(10, Math.round(2_000 * scale)),
    reviews: Math.max(10, Math.round(20_000 * scale)),
    orders: Math.max(10, Math.round(5_000 * scale)),
  };
}

/** Reads `--scale N` (or `--scale=N`) from argv. */
export function parseScale(argv: readonly string[]): number {
  const index = argv.findIndex((arg) => arg === '--scale' || arg.startsWith('--scale='));
  if (index === -1) return 1;
  const arg = argv[index] ?? '';
  const raw = arg.includes('=') ? arg.split('=')[1] : argv[index + 1];
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number (got ${raw})`);
  return scale;
}

/**
 * SQL expression for a deterministic pseudo-random integer in [0, modulo) from a row
 * number `i` and a salt: a multiplicative hash, stable across Postgres versions.
 */
export function hashMod(i: string, salt: number, modulo: number): string {
  // A different odd multiplier per salt keeps columns of one row uncorrelated.
  const multiplier = 2654435761 + salt * 40503 * 2;
  return `((((${i})::bigint + ${salt * 7919}) * ${multiplier}) % 4294967291 % ${modulo})`;
}

/** SQL array literal of text values, for seeds that pick words by hashMod. */
export function sqlTextArray(values: readonly string[]): string {
  return `array[${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(',')}]`;
}
