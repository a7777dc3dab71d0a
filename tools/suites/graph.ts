// The whole graph as real processes for the load, fault and fuzz suites: each subgraph and
// the gateway in its own Node process (production mode, development secrets), so a suite
// can SIGKILL one, restart it, and read a process's resident memory from /proc. The gateway
// runs its production command (runtime.ts: ops/start.sh on the bundle) under its Kubernetes
// memory limit (MEMORY_LIMIT), so its heap is sized as in a pod.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@trellis/db/embedded';
import type { SeedPlan } from '@trellis/db/seed';
import { DEV_AUTH } from '@trellis/identity';
import { TEST_SEED } from '@trellis/testing';
import { composeWorkspace } from '../src/compose.ts';
import { type ServiceProcess, spawnDeployed, spawnService, waitForStatus } from '../src/process.ts';
import { GATEWAY_COMMAND, MEMORY } from '../src/runtime.ts';
import { loadDefinition, prepareSubgraph } from '../src/subgraphs.ts';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

/** Waits until a service reports ready; fails with its output when it exits or times out first. */
async function waitReady(service: GraphProcess, timeoutMs = 120_000): Promise<void> {
  const exited = service.process.exited.then(({ code, signal }) => {
    throw new Error(`${service.name} exited (${signal ?? code}): ${service.process.output().slice(-2000)}`);
  });
  try {
    await Promise.race([waitForStatus(`http://127.0.0.1:${service.port}/health/ready`, timeoutMs), exited]);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${service.name} output: ${service.process.output().slice(-2000)}`);
  } finally {
    exited.catch(() => {});
  }
}

/**
 * Production mode (errors masked as in production) with the development client secret, so
 * `tokenFor()` tokens verify; production insists on a long subgraph signing secret.
 */
const SECRETS = {
  AUTH_JWT_SECRET: DEV_AUTH.clientSecret,
  SUBGRAPH_SIGNING_SECRET: randomBytes(24).toString('base64url'),
};

export interface GraphProcess {
  name: string;
  port: number;
  process: ServiceProcess;
}

export interface ProcessGraph {
  /** The gateway's GraphQL endpoint. */
  url: string;
  gateway: GraphProcess;
  subgraphs: Record<string, GraphProcess>;
  /** SIGKILLs a subgraph and waits until it is gone. */
  kill(name: string): Promise<void>;
  /** Starts a (killed) subgraph again on its port; resolves once it reports ready. */
  restart(name: string): Promise<void>;
  /**
   * Starts another gateway replica over the same subgraphs and supergraph, with the same
   * settings (`gatewayEnv`: one shared Redis when it names one); resolves once it is ready.
   */
  addGateway(): Promise<GraphProcess>;
  /** Starts the job worker of a subgraph (`src/worker.ts`); resolves once it reports ready. */
  startWorker(name: string, env?: Record<string, string>): Promise<GraphProcess>;
  /**
   * The gateway's live V8 heap: in use right after full garbage collections (forced through
   * the memory probe, so only with `probeGatewayMemory`). Forcing collections changes what a
   * later RSS reading sees: take it only once the RSS readings it could bias are done.
   */
  liveHeapBytes(): Promise<number>;
  stop(): Promise<void>;
}

export interface ProcessGraphOptions {
  /** The database every subgraph uses (each in its own schema); migrated and seeded here. */
  databaseUrl: string;
  plan?: SeedPlan;
  /** Extra gateway environment (RESPONSE_CACHE, REDIS_URL, limits…). */
  gatewayEnv?: Record<string, string>;
  /** Extra environment of every subgraph and worker (e.g. job settings). */
  serviceEnv?: Record<string, string>;
  /** Where orders' confirmations go (NOTIFY_WEBHOOK_URL; production requires one). @default a closed port */
  webhook?: { url: string; secret: string };
  /** Preload the memory probe (memory-probe.ts) into the gateway, for `liveHeapBytes()`. @default false */
  probeGatewayMemory?: boolean;
}

function spawnProcess(mainPath: string, port: number, env: Record<string, string>): ServiceProcess {
  return spawnService(
    mainPath,
    [],
    { ...SECRETS, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    ROOT,
  );
}

export async function startProcessGraph(options: ProcessGraphOptions): Promise<ProcessGraph> {
  const infos = listSubgraphs();
  const subgraphs: Record<string, GraphProcess> = {};
  const mains: Record<string, string> = {};
  const workers: GraphProcess[] = [];
  const env: Record<string, string> = {};
  let gateway: GraphProcess | undefined;
  const replicas: GraphProcess[] = [];
  let supergraphPath = '';
  let probePort: number | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'trellis-suite-'));
  // An OTLP/HTTP receiver standing in for the collector production has (docker compose, k8s):
  // services export their sampled spans to it, as deployed, and it discards them.
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  const collectorPort = await freePort();
  await new Promise<void>((resolve) => collector.listen(collectorPort, '127.0.0.1', resolve));
  env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${collectorPort}`;
  const spawnGateway = (port: number, extra: Record<string, string> = {}, flags: string[] = []): GraphProcess => ({
    name: 'gateway',
    port,
    process: spawnDeployed(GATEWAY_COMMAND, ['--supergraph', supergraphPath, '--port', String(port)], {
      ...SECRETS,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '',
      MEMORY_LIMIT: `${MEMORY.gateway.limitMi}Mi`,
      // The memory probe (TypeScript) preloads through tsx: suites only, never deployed.
      ...(flags.length > 0 ? { NODE_OPTIONS: ['--import', 'tsx', ...flags].join(' ') } : {}),
      ...extra,
      ...options.gatewayEnv,
    }),
  });
  const stop = async () => {
    const all = [...workers, ...replicas, ...Object.values(subgraphs), ...(gateway ? [gateway] : [])];
    for (const service of all) service.process.child.kill('SIGTERM');
    await Promise.race([
      Promise.all(all.map((s) => s.process.exited)),
      new Promise((resolve) => setTimeout(resolve, 10_000)),
    ]);
    for (const service of all) service.process.killAll();
    collector.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: Record<string, number> = {};
    for (const info of infos) {
      await prepareSubgraph(await loadDefinition(info), options.databaseUrl, {
        seed: 'always',
        plan: options.plan ?? TEST_SEED,
      });
      ports[info.name] = await freePort();
    }
    // What services need besides the database (as `pnpm dev` gives them): orders reads prices
    // from products and sends confirmations to a webhook.
    Object.assign(env, {
      DATABASE_URL: options.databaseUrl,
      ...(ports.products ? { CATALOGUE_URL: `http://127.0.0.1:${ports.products}/graphql` } : {}),
      NOTIFY_WEBHOOK_URL: options.webhook?.url ?? 'http://127.0.0.1:1/webhooks/orders',
      NOTIFY_WEBHOOK_SECRET: options.webhook?.secret ?? randomBytes(24).toString('base64url'),
      // Production mode requires the invoice links' signing secret.
      INVOICE_LINK_SECRET: randomBytes(32).toString('base64url'),
      ...options.serviceEnv,
    });
    for (const info of infos) {
      const port = ports[info.name] as number;
      mains[info.name] = info.mainPath;
      subgraphs[info.name] = { name: info.name, port, process: spawnProcess(info.mainPath, port, env) };
    }
    await Promise.all(Object.values(subgraphs).map((s) => waitReady(s)));
    supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(
      supergraphPath,
      composeWorkspace((name) => `http://127.0.0.1:${subgraphs[name]?.port}/graphql`),
    );
    const port = await freePort();
    probePort = options.probeGatewayMemory ? await freePort() : undefined;
    const probe = probePort ? ['--expose-gc', '--import', join(ROOT, 'tools', 'suites', 'memory-probe.ts')] : [];
    gateway = spawnGateway(port, probePort ? { MEMORY_PROBE_PORT: String(probePort) } : {}, probe);
    await waitReady(gateway);
  } catch (error) {
    await stop();
    throw error;
  }
  const running = gateway;
  return {
    url: `http://127.0.0.1:${running.port}/graphql`,
    gateway: running,
    subgraphs,
    async kill(name) {
      const service = subgraphs[name];
      if (!service) throw new Error(`No subgraph ${name}`);
      service.process.child.kill('SIGKILL');
      await service.process.exited;
    },
    async restart(name) {
      const service = subgraphs[name];
      const main = mains[name];
      if (!service || !main) throw new Error(`No subgraph ${name}`);
      service.process = spawnProcess(main, service.port, env);
      await waitReady(service);
    },
    async addGateway() {
      const replica = spawnGateway(await freePort());
      replicas.push(replica);
      await waitReady(replica);
      return replica;
    },
    async startWorker(name, extra = {}) {
      const info = infos.find((i) => i.name === name);
      if (!info?.worker) throw new Error(`Subgraph ${name} has no worker`);
      const port = await freePort();
      const worker: GraphProcess = {
        name: `${name}-worker`,
        port,
        process: spawnProcess(info.worker.mainPath, port, { ...env, ...extra }),
      };
      workers.push(worker);
      await waitReady(worker);
      return worker;
    },
    async liveHeapBytes() {
      if (!probePort) throw new Error('The gateway runs without the memory probe (probeGatewayMemory)');
      const response = await fetch(`http://127.0.0.1:${probePort}/gc`, { signal: AbortSignal.timeout(30_000) });
      if (!response.ok) throw new Error(`Memory probe answered ${response.status}`);
      return ((await response.json()) as { heapUsedBytes: number }).heapUsedBytes;
    },
    stop,
  };
}

/** Resident set size of a process in bytes (VmRSS from /proc; Linux only). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** True while the process has not exited. */
export function isAlive(service: GraphProcess): boolean {
  return service.process.child.exitCode === null && service.process.child.signalCode === null;
}

/**
 * The V8 heap in use of a service, from its /metrics (prom-client default metrics): a second
 * view of memory next to RSS, which swapping on a busy machine also moves.
 */
export async function heapUsedBytes(service: GraphProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${service.port}/metrics`)).text();
  const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}
