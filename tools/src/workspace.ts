// Discovers the subgraphs of the workspace: every subgraphs/<name>/package.json with a
// `trellis.subgraph` entry. Composition, codegen, the dev runner, migrations and seeds all
// read this one list, so adding a subgraph folder registers it everywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Node flags every service process starts with in development and tests (`pnpm dev`, the
 * harness): tsx, then the telemetry preload (before the application, so http and graphql are
 * instrumented). Production runs the bundles instead (runtime.ts, ops/start.sh).
 */
export const SERVICE_NODE_FLAGS = ['--import', 'tsx', '--import', '@trellis/telemetry/setup'] as const;

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SubgraphInfo {
  name: string;
  port: number;
  dir: string;
  schemaPath: string;
  servicePath: string;
  /** Its service's entry point: package.json `trellis.main` (default src/main.ts); `pnpm build` bundles it. */
  mainPath: string;
  /** Its job worker (package.json `trellis.worker`), if it has one: `trellis.worker.main` (default src/worker.ts), health and /metrics on `port`. */
  worker?: { port: number; mainPath: string; secrets: Record<string, string>; env: Record<string, string> };
  /**
   * Plain settings its service deployment needs (package.json `trellis.env`; the worker's are
   * `trellis.worker.env`), e.g. another service's URL: a URL naming another service of the
   * graph is a call its network policy allows (listServices `calls`).
   */
  env: Record<string, string>;
  /** URL paths the public ingress routes to the service itself (package.json `trellis.publicPaths`), e.g. `/invoices`. */
  publicPaths: string[];
  /** Secrets its service deployment needs (package.json `trellis.secrets`): variable → `<secret>/<key>`. */
  secrets: Record<string, string>;
  /** GraphQL type name → `path#Export` of its mapper (relative to src/generated). */
  mappers: Record<string, string>;
}

export function listSubgraphs(root = ROOT): SubgraphInfo[] {
  const base = join(root, 'subgraphs');
  return readdirSync(base)
    .filter((entry) => existsSync(join(base, entry, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const meta = pkg.trellis ?? {};
      return {
        name: String(meta.subgraph ?? entry),
        port: Number(meta.port),
        dir,
        schemaPath: join(dir, 'src', 'schema.graphql'),
        servicePath: join(dir, 'src', 'service.ts'),
        mainPath: join(dir, meta.main ?? join('src', 'main.ts')),
        mappers: meta.mappers ?? {},
        env: meta.env ?? {},
        publicPaths: meta.publicPaths ?? [],
        secrets: meta.secrets ?? {},
        ...(meta.worker
          ? {
              worker: {
                port: Number(meta.worker.port),
                mainPath: join(dir, meta.worker.main ?? join('src', 'worker.ts')),
                // Variable → `<secret name>/<key>` in deployments.
                secrets: meta.worker.secrets ?? {},
                env: meta.worker.env ?? {},
              },
            }
          : {}),
      };
    })
    .sort((a, b) => a.port - b.port);
}

/**
 * The port every deployed service (compose, Kubernetes) serves its internal surface on —
 * `/metrics` and the gateway's `/admin/*` — beside the public one (ADMIN_PORT). Never
 * published or routed: Prometheus and operators reach it inside the cluster or stack only.
 * `pnpm dev` and the tests leave ADMIN_PORT unset (one loopback port per service).
 */
export const ADMIN_PORT = 9464;

/** A process the graph deploys: the gateway, a subgraph's service or its job worker. */
export interface ServiceInfo {
  /** Its name everywhere: compose service, Kubernetes Deployment/Service, Prometheus job, OTEL_SERVICE_NAME. */
  name: string;
  kind: 'gateway' | 'subgraph' | 'worker';
  /** The public (GraphQL, health) port. */
  port: number;
  /** The subgraph it belongs to (subgraphs and workers): its database role. */
  subgraph?: string;
  /** Plain settings of its deployment (package.json `trellis.env` / `trellis.worker.env`). */
  env: Record<string, string>;
  /** Secrets of its deployment: variable → `<secret>/<key>`. */
  secrets: Record<string, string>;
  /** Other services of the graph it calls (the gateway: every subgraph; others: URLs in `env`). */
  calls: string[];
  /** Paths the public ingress routes to it (the gateway: /graphql). */
  publicPaths: string[];
  /** It holds a database pool (the subgraph's role). */
  database: boolean;
}

/** Services an env value's URL points at (`http://products:4002/...` → products). */
function servicesIn(env: Record<string, string>, names: Set<string>): string[] {
  const called = new Set<string>();
  for (const value of Object.values(env)) {
    try {
      const host = new URL(value).hostname;
      if (names.has(host)) called.add(host);
    } catch {
      // Not a URL: nothing it calls.
    }
  }
  return [...called].sort();
}

/** Every deployable of the graph, in a stable order: the gateway, the subgraphs, the workers. */
export function listServices(subgraphs: SubgraphInfo[] = listSubgraphs()): ServiceInfo[] {
  const names = new Set(subgraphs.map((s) => s.name));
  return [
    {
      name: 'gateway',
      kind: 'gateway',
      port: 4000,
      env: {},
      secrets: {},
      calls: subgraphs.map((s) => s.name),
      publicPaths: ['/graphql'],
      database: false,
    },
    ...subgraphs.map(
      (s): ServiceInfo => ({
        name: s.name,
        kind: 'subgraph',
        port: s.port,
        subgraph: s.name,
        env: s.env,
        secrets: s.secrets,
        calls: servicesIn(s.env, names).filter((n) => n !== s.name),
        publicPaths: s.publicPaths,
        database: true,
      }),
    ),
    ...subgraphs.flatMap((s): ServiceInfo[] =>
      s.worker
        ? [
            {
              name: `${s.name}-worker`,
              kind: 'worker',
              port: s.worker.port,
              subgraph: s.name,
              env: s.worker.env,
              secrets: s.worker.secrets,
              calls: servicesIn(s.worker.env, names),
              publicPaths: [],
              database: true,
            },
          ]
        : [],
    ),
  ];
}
