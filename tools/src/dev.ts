// `pnpm dev`: the whole graph on one machine. Uses DATABASE_URL, or starts an embedded
// Postgres; migrates and seeds when empty; runs every subgraph and the gateway as their
// own processes, and the reference storefront (Vite dev server, its own origin) against
// that gateway; stops everything (and Postgres) on Ctrl-C or SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseCommand } from '@trellis/config/cli';
import type { ToolDatabase } from './database.ts';

parseCommand({
  command: 'pnpm dev',
  usage: '',
  help: `Runs the whole graph on this machine: DATABASE_URL (or an embedded Postgres), every subgraph
migrated and seeded when empty, the subgraphs, workers, gateway, webhook sink and storefront as
their own processes. Ctrl-C or SIGTERM stops everything. Takes no arguments; DEV_PORT_OFFSET
shifts every port.`,
  options: {},
});

// The rest loads only once the arguments are good: `--help` answers without it.
const { seedPlan } = await import('@trellis/db/seed');
const { openToolDatabase } = await import('./database.ts');
const { toolEnv } = await import('./env.ts');
const { STOREFRONT_DIR } = await import('./storefront.ts');
const { loadDefinition, prepareSubgraph } = await import('./subgraphs.ts');
const { listSubgraphs, ROOT, SERVICE_NODE_FLAGS } = await import('./workspace.ts');

const offset = toolEnv.DEV_PORT_OFFSET;
const GATEWAY_PORT = 4000 + offset;
const STOREFRONT_PORT = 5173 + offset;
const STOREFRONT_VITE = join(STOREFRONT_DIR, 'node_modules', 'vite', 'bin', 'vite.js');
const children: { name: string; child: ChildProcess }[] = [];
let database: ToolDatabase | undefined;
let stopping = false;

function say(line: string): void {
  process.stdout.write(`[dev] ${line}\n`);
}

/** Startup steps check this so a signal during start-up never leaves a late child behind. */
function ensureRunning(): void {
  if (stopping) throw new Error('stopping');
}

function run(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { nodeFlags?: readonly string[]; cwd?: string } = {},
): ChildProcess {
  ensureRunning();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? SERVICE_NODE_FLAGS), script, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: toolEnv.LOG_LEVEL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = name.padEnd(14);
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label}| ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the graph`);
      void shutdown(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function waitReady(name: string, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000}s (${url})`);
}

async function shutdown(code: number): Promise<never> {
  if (stopping) return new Promise(() => {});
  stopping = true;
  say('stopping…');
  await Promise.all(
    children.map(
      ({ name, child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', (_code, signal) => {
            if (signal === 'SIGKILL') say(`${name} did not stop within 10s; killed`);
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  if (database) await database.stop();
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  database = await openToolDatabase(say);
  ensureRunning();
  const subgraphs = listSubgraphs();
  for (const info of subgraphs) {
    const { seeded } = await prepareSubgraph(await loadDefinition(info), database.url, {
      seed: 'when-empty',
      plan: seedPlan(1),
    });
    say(`${info.name}: migrated${seeded ? ', seeded (scale 1)' : ''}`);
    ensureRunning();
  }
  const routes: Record<string, string> = {};
  // placeOrder prices from the products subgraph; confirmations go to the local sink.
  const products = subgraphs.find((info) => info.name === 'products');
  // Invoice links point at the orders service where it actually listens (the port offset too).
  const orders = subgraphs.find((info) => info.name === 'orders');
  const sinkPort = toolEnv.WEBHOOK_SINK_PORT + offset;
  const serviceEnv = {
    DATABASE_URL: database.url,
    ...(products ? { CATALOGUE_URL: `http://127.0.0.1:${products.port + offset}/graphql` } : {}),
    ...(orders ? { INVOICE_BASE_URL: `http://localhost:${orders.port + offset}` } : {}),
    NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${sinkPort}/webhooks/orders`,
    NOTIFY_WEBHOOK_SECRET: toolEnv.NOTIFY_WEBHOOK_SECRET,
    // Without REDIS_URL the outbox relays POST committed invalidations to the gateway.
    CACHE_INVALIDATION_URL: `http://127.0.0.1:${GATEWAY_PORT}/admin/cache/purge`,
  };
  run('webhooks', join(ROOT, 'tools', 'src', 'webhook-sink.ts'), [], { WEBHOOK_SINK_PORT: String(sinkPort) });
  for (const info of subgraphs) {
    const port = info.port + offset;
    run(info.name, info.mainPath, [], { ...serviceEnv, PORT: String(port) });
    if (info.worker) {
      run(`${info.name}-worker`, info.worker.mainPath, [], { ...serviceEnv, PORT: String(info.worker.port + offset) });
    }
    // The committed supergraph routes to the default ports; shifted ports are overridden.
    if (offset) routes[`SUBGRAPH_URL_${info.name.toUpperCase()}`] = `http://127.0.0.1:${port}/graphql`;
  }
  await Promise.all([
    ...subgraphs.map((info) => waitReady(info.name, `http://127.0.0.1:${info.port + offset}/health/ready`)),
    ...subgraphs.flatMap((info) =>
      info.worker
        ? [waitReady(`${info.name}-worker`, `http://127.0.0.1:${info.worker.port + offset}/health/ready`)]
        : [],
    ),
  ]);
  run('gateway', join(ROOT, 'gateway', 'src', 'main.ts'), ['--supergraph', join(ROOT, 'supergraph.graphql')], {
    PORT: String(GATEWAY_PORT),
    // Operation usage (gateway_usage) in the dev database: `pnpm schema:usage` reads it.
    USAGE_DATABASE_URL: database.url,
    ...routes,
  });
  await waitReady('gateway', `http://127.0.0.1:${GATEWAY_PORT}/health/ready`);
  // The storefront on its own origin, calling the gateway cross-origin (CORS allows loopback
  // origins in development).
  const storefrontUrl = `http://localhost:${STOREFRONT_PORT}/`;
  run(
    'storefront',
    STOREFRONT_VITE,
    ['--port', String(STOREFRONT_PORT), '--strictPort', '--clearScreen', 'false'],
    {
      VITE_GATEWAY_URL: `http://localhost:${GATEWAY_PORT}/graphql`,
    },
    { nodeFlags: [], cwd: STOREFRONT_DIR },
  );
  await waitReady('storefront', storefrontUrl);
  ensureRunning();
  say(`webhook deliveries: http://127.0.0.1:${sinkPort}/deliveries (also .data/webhook-sink/deliveries.jsonl)`);
  say(`storefront: ${storefrontUrl} (sign in with: pnpm --silent run dev:token --user 1)`);
  say(`graph ready: http://localhost:${GATEWAY_PORT}/graphql (explorer in a browser); Ctrl-C to stop`);
} catch (error) {
  if (!stopping) {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}
