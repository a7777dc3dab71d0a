// The reference storefront's operations as the gateway receives them — the bodies of its
// trusted-documents manifest (clients/storefront/persisted-operations.json, `pnpm codegen`)
// — by name, for the tests, suites and benchmarks that send the storefront's traffic.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './workspace.ts';

export const STOREFRONT_DIR = join(ROOT, 'clients', 'storefront');
export const STOREFRONT_MANIFEST = join(STOREFRONT_DIR, 'persisted-operations.json');

let operations: { name: string; id: string; body: string }[] | undefined;

/** The body of a storefront operation, by name. */
export function storefront(name: string): string {
  operations ??= (JSON.parse(readFileSync(STOREFRONT_MANIFEST, 'utf8')) as { operations: typeof operations })
    .operations;
  const op = operations?.find((o) => o.name === name);
  if (!op) throw new Error(`The storefront manifest has no operation ${name}`);
  return op.body;
}
