// The whole graph in one test process: every subgraph on an ephemeral port over one fresh
// database (each in its own Postgres schema), a supergraph composed with those ports, and
// the real gateway in front. Real HTTP everywhere.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedPlan } from '@trellis/db/seed';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_LIMITS,
  DEFAULT_RATE_LIMIT,
  type GatewayConfig,
  type Limits,
  startGateway,
} from '@trellis/gateway';
import { DEV_CORS_ORIGINS } from '@trellis/http';
import { DEV_AUTH, mintClientToken } from '@trellis/identity';
import { TEST_SEED } from '@trellis/testing';
import { startTestSubgraph, type TestSubgraph } from '@trellis/testing/subgraph';
import { composeWorkspace } from './compose.ts';
import { type ServiceProcess, spawnService } from './process.ts';
import { loadDefinitions } from './subgraphs.ts';
import { listSubgraphs, ROOT } from './workspace.ts';

/** A gateway configuration for tests: ephemeral port, development secrets, default limits. */
export function testGatewayConfig(overrides: Partial<GatewayConfig> & { supergraphPath: string }): GatewayConfig {
  return {
    nodeEnv: 'test',
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    subgraphUrls: {},
    limits: DEFAULT_LIMITS,
    maxBodyBytes: 1_000_000,
    features: true,
    subgraphTimeoutMs: 5000,
    subgraphConcurrency: { ...DEFAULT_CONCURRENCY, perSubgraph: {} },
    responseCache: { enabled: false, timeoutMs: 50 },
    rateLimit: DEFAULT_RATE_LIMIT,
    // As gatewayConfig() outside production: loopback origins.
    cors: { origins: [...DEV_CORS_ORIGINS] },
    auth: {
      secret: DEV_AUTH.clientSecret,
      issuer: DEV_AUTH.issuer,
      audience: DEV_AUTH.audience,
      required: false,
      subgraphSecret: DEV_AUTH.subgraphSecret,
    },
    ...overrides,
  };
}

/** A client token for `userId` signed with the development secret the test gateway accepts. */
export function tokenFor(userId: string | number, scopes: string[] = []): Promise<string> {
  return mintClientToken({
    userId: String(userId),
    scopes,
    secret: DEV_AUTH.clientSecret,
    issuer: DEV_AUTH.issuer,
    audience: DEV_AUTH.audience,
  });
}

export interface TestGraph {
  url: string;
  gateway: Awaited<ReturnType<typeof startGateway>>;
  subgraphs: Record<string, TestSubgraph>;
  supergraphPath: string;
  stop(): Promise<void>;
}

export async function startGraph(
  serverUrl: string,
  options: {
    plan?: SeedPlan;
    limits?: Partial<Limits>;
    nodeEnv?: 'development' | 'test' | 'production';
    trustedDocuments?: string;
    responseCache?: GatewayConfig['responseCache'];
    rateLimit?: Partial<GatewayConfig['rateLimit']>;
    /**
     * Start the subgraphs' outbox relays: on Redis pub/sub when the response cache has a
     * Redis URL, otherwise POSTing to this gateway's purge endpoint.
     */
    invalidation?: boolean;
    /** Any other gateway setting (CORS, client names, …). */
    gateway?: Partial<GatewayConfig>;
  } = {},
): Promise<TestGraph> {
  const definitions = await loadDefinitions();
  const subgraphs: Record<string, TestSubgraph> = {};
  let gatewayUrl = '';
  const cache = options.responseCache;
  const invalidation = options.invalidation
    ? cache?.redisUrl
      ? { redisUrl: cache.redisUrl, namespace: cache.namespace }
      : { gatewayUrl: () => `${gatewayUrl}/admin/cache/purge` }
    : undefined;
  for (const definition of definitions) {
    subgraphs[definition.name] = await startTestSubgraph(definition, serverUrl, {
      plan: options.plan ?? TEST_SEED,
      ...(invalidation ? { invalidation } : {}),
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'trellis-graph-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(
    supergraphPath,
    composeWorkspace((name) => subgraphs[name]?.url ?? 'http://127.0.0.1:1/graphql'),
  );
  const gateway = await startGateway(
    testGatewayConfig({
      supergraphPath,
      nodeEnv: options.nodeEnv ?? 'test',
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      trustedDocuments: options.trustedDocuments,
      ...(options.responseCache ? { responseCache: options.responseCache } : {}),
      ...(options.rateLimit ? { rateLimit: { ...DEFAULT_RATE_LIMIT, ...options.rateLimit } } : {}),
      ...options.gateway,
    }),
  );
  gatewayUrl = gateway.url;
  return {
    url: `${gateway.url}/graphql`,
    gateway,
    subgraphs,
    supergraphPath,
    async stop() {
      await gateway.stop();
      await Promise.all(Object.values(subgraphs).map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface GraphWorker {
  /** `<subgraph>-worker`, its Prometheus job name. */
  job: string;
  process: ServiceProcess;
  /** Its health and /metrics port. */
  port: number;
  /** SIGTERM (it drains, then exits); SIGKILL if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts subgraph `name`'s job worker (package.json `trellis.worker`) as a real process on
 * that subgraph's database in `graph`, as its deployment runs it; resolves once it is ready.
 */
export async function startGraphWorker(
  graph: TestGraph,
  name: string,
  options: { pollIntervalMs?: number; readyTimeoutMs?: number } = {},
): Promise<GraphWorker> {
  const info = listSubgraphs().find((s) => s.name === name);
  const subgraph = graph.subgraphs[name];
  if (!info?.worker || !subgraph) throw new Error(`subgraph "${name}" has no job worker in this graph`);
  const env = {
    DATABASE_URL: subgraph.database.url,
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...(options.pollIntervalMs ? { JOBS_POLL_INTERVAL_MS: String(options.pollIntervalMs) } : {}),
  };
  const child = spawnService(info.worker.mainPath, [], env, ROOT);
  const job = `${name}-worker`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const ready = child
      .output()
      .split('\n')
      .find((line) => line.includes('worker ready'));
    if (ready) {
      const { port } = JSON.parse(ready) as { port: number };
      return {
        job,
        process: child,
        port,
        async stop(timeoutMs = 15_000) {
          if (child.child.exitCode !== null || child.child.signalCode !== null) return;
          child.child.kill('SIGTERM');
          const timer = setTimeout(child.killAll, timeoutMs);
          await child.exited;
          clearTimeout(timer);
        },
      };
    }
    if (Date.now() > deadline || child.child.exitCode !== null) {
      child.killAll();
      throw new Error(`${job} not ready:\n${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
