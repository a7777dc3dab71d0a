// The reference storefront's operations as the gateway receives them — the bodies of its
// trusted-documents manifest (clients/storefront/persisted-operations.json, `pnpm codegen`)
// — by name, for the tests, suites and benchmarks that send the storefront's traffic.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './process.ts';
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

/**
 * Builds the storefront for production (persisted ids only) against `gatewayUrl` into
 * `outDir` with Vite, as a deployment would; throws with Vite's output when it fails.
 */
export async function buildStorefront(gatewayUrl: string, outDir: string): Promise<void> {
  const vite = join(STOREFRONT_DIR, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = await runCommand(
    process.execPath,
    [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: STOREFRONT_DIR, env: { VITE_GATEWAY_URL: gatewayUrl, NODE_ENV: 'production' }, timeoutMs: 60_000 },
  );
  if (result.code !== 0) throw new Error(`storefront build failed (${result.code}):\n${result.stdout}${result.stderr}`);
}
