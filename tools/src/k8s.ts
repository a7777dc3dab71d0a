// `pnpm k8s [--check]`: renders the Kubernetes manifests from the workspace. The kustomize
// base (ops/k8s/base): a Namespace (Pod Security "restricted" enforced), and per deployable
// (the gateway, every subgraph and every worker declared by `trellis.worker`) a
// ServiceAccount, Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget and
// NetworkPolicy (k8s-network.ts), the Ingress, the supergraph and runtime settings as
// ConfigMaps, Secrets referenced by name only (never inlined; each subgraph's DATABASE_URL is
// its own role). Monitoring (k8s-monitoring.ts) is a kustomize component for clusters with
// the Prometheus Operator, plus plain Prometheus scrape configuration for those without.
// Generated, so a new subgraph is registered by running it (`pnpm compose` does); `--check`
// fails when the committed files are stale. Environment-specific settings live in overlays
// (ops/k8s/overlays/production).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainModule } from '@trellis/config/cli';
import { DEFAULT_JOBS_POOL_MAX } from '@trellis/jobs/pool';
import { stringify } from 'yaml';
import { type GeneratedFiles, runGenerator } from './generated-files.ts';
import { renderMonitoring } from './k8s-monitoring.ts';
import { ingress, networkPolicies, servicePolicy } from './k8s-network.ts';
import { HEADER, K8S_BASE, K8S_ROOT, labelsOf, NAMESPACE, selectorOf, yamlDocs } from './k8s-objects.ts';
import { MEMORY, startCommand } from './runtime.ts';
import { ADMIN_PORT, listServices, listSubgraphs, ROOT, type ServiceInfo, type SubgraphInfo } from './workspace.ts';

export const K8S_DIR = join(ROOT, K8S_BASE);
const IMAGE = 'trellis:latest';

export { MEMORY, OUTSIDE_HEAP_MIB } from './runtime.ts';

const CPU = {
  gateway: { request: '500m', limit: '1' },
  subgraph: { request: '250m', limit: '1' },
  worker: { request: '100m', limit: '500m' },
} as const;
/** HPA bounds; the database pool budget (docs/scaling.md) rests on `max`. */
const REPLICAS = { gateway: { min: 2, max: 10 }, subgraph: { min: 2, max: 6 }, worker: { min: 2, max: 4 } } as const;

/**
 * Lifecycle timings. On termination the endpoint controller and every kube-proxy need a few
 * seconds to stop sending new connections to the pod; the pre-stop sleep keeps it serving
 * meanwhile, then SIGTERM drains in-flight requests (10 s in the gateway, 5 s in subgraphs,
 * JOBS_DRAIN_TIMEOUT_MS in workers) and exitOnSignals forces the exit after 15 s (workers:
 * drain + 10 s). The grace period covers the sum; a test checks it.
 */
export const LIFECYCLE = {
  preStopSleepSeconds: 5,
  /** Longest drain-then-force-exit of any deployable (exitOnSignals, workers: 10 s drain + 10 s). */
  shutdownSeconds: 20,
  terminationGracePeriodSeconds: 30,
  /** Startup probe: up to 2 s × 60 = 120 s to come alive (migrations on a cold start). */
  startup: { periodSeconds: 2, failureThreshold: 60 },
} as const;

/**
 * Postgres connection budget of the base (docs/scaling.md): pool sizes and HPA maxima are
 * chosen so that every deployable at its maximum, plus a rolling-update surge, fits in
 * `max_connections` with headroom, with room left for one more subgraph. A test recomputes
 * it from the manifests.
 */
export const POOL_BUDGET = {
  maxConnections: 400,
  /** superuser_reserved_connections (3) + operators, backups, monitoring. */
  reserved: 13,
  /** Share of max_connections kept free. */
  headroom: 0.2,
  /** Per process: the readiness probe's own connection. */
  probe: 1,
} as const;
/** Sized so the budget keeps room for one more subgraph (`pnpm new:subgraph`; docs/scaling.md;
 * tools/test/new-subgraph.e2e.test.ts runs the budget test with one added). */
const SUBGRAPH_POOL = 4;
const WORKER_POOL = 3;
/** A worker's pg-boss pool (JOBS_POOL_MAX), besides its handlers' DB_POOL_MAX: the code's default. */
const WORKER_JOBS_POOL = DEFAULT_JOBS_POOL_MAX;

const secretEnv = (name: string, secret: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
const plainEnv = (name: string, value: string) => ({ name, value });
/** Settings shared by every deployable that overlays change per environment (kustomize). */
export const RUNTIME_CONFIG = 'trellis-runtime';
const runtimeEnv = (name: string) => ({ name, valueFrom: { configMapKeyRef: { name: RUNTIME_CONFIG, key: name } } });
const secretRefs = (secrets: Record<string, string>) =>
  Object.entries(secrets).map(([name, ref]) => {
    const [secret = '', key = ''] = ref.split('/');
    return secretEnv(name, secret, key);
  });
/** The supergraph ConfigMap's mount: a directory (no subPath), so in-place updates would reach it. */
export const SUPERGRAPH_MOUNT = '/etc/trellis';

/** The production command (runtime.ts): ops/start.sh sizes the heap from MEMORY_LIMIT. */
function commandOf(service: ServiceInfo): string[] {
  const command = startCommand(service);
  return service.kind === 'gateway' ? [...command, '--supergraph', `${SUPERGRAPH_MOUNT}/supergraph.graphql`] : command;
}

function envOf(service: ServiceInfo, subgraphs: SubgraphInfo[]): Record<string, unknown>[] {
  const common = [
    // ops/start.sh sizes the V8 heap from it (the cgroup says the same; this is explicit).
    { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
    plainEnv('NODE_ENV', 'production'),
    plainEnv('HOST', '0.0.0.0'),
    plainEnv('PORT', String(service.port)),
    plainEnv('ADMIN_PORT', String(ADMIN_PORT)),
  ];
  // Every service exports traces over OTLP; the collector's address comes from the runtime ConfigMap.
  const otel = [plainEnv('OTEL_SERVICE_NAME', service.name), runtimeEnv('OTEL_EXPORTER_OTLP_ENDPOINT')];
  const identity = secretEnv('SUBGRAPH_SIGNING_SECRET', 'trellis-identity', 'subgraph-signing-secret');
  const redis = secretEnv('REDIS_URL', 'trellis-redis', 'url');
  if (service.kind === 'gateway')
    return [
      ...common,
      ...subgraphs.map((s) => plainEnv(`SUBGRAPH_URL_${s.name.toUpperCase()}`, `http://${s.name}:${s.port}/graphql`)),
      identity,
      secretEnv('AUTH_JWKS_URL', 'trellis-identity', 'jwks-url'),
      redis,
      ...otel,
    ];
  // A subgraph and its worker share the subgraph's database role (its own schemas only).
  const database = secretEnv('DATABASE_URL', `trellis-${service.subgraph}-db`, 'url');
  if (service.kind === 'worker')
    return [
      ...common,
      plainEnv('DB_POOL_MAX', String(WORKER_POOL)),
      plainEnv('JOBS_POOL_MAX', String(WORKER_JOBS_POOL)),
      database,
      // The subgraph's settings are parsed whole in its worker too (orders: settings()).
      identity,
      ...otel,
      ...Object.entries(service.env).map(([name, value]) => plainEnv(name, value)),
      ...secretRefs(service.secrets),
    ];
  // Subgraphs verify the gateway's identity and publish cache invalidations on Redis.
  return [
    ...common,
    plainEnv('DB_POOL_MAX', String(SUBGRAPH_POOL)),
    database,
    identity,
    redis,
    ...otel,
    ...Object.entries(service.env).map(([name, value]) => plainEnv(name, value)),
    ...secretRefs(service.secrets),
  ];
}

function manifests(service: ServiceInfo, subgraphs: SubgraphInfo[]): Record<string, unknown>[] {
  const { name, kind } = service;
  const labels = labelsOf(service);
  const selector = { matchLabels: selectorOf(service) };
  const probe = (path: string) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: 5,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  const memory = MEMORY[kind];
  const gateway = kind === 'gateway';
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, labels },
      // Trellis never calls the Kubernetes API: no token anywhere.
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: REPLICAS[kind].min,
        // One extra pod at a time during a rollout (counted in the connection budget).
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        selector,
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            terminationGracePeriodSeconds: LIFECYCLE.terminationGracePeriodSeconds,
            // Replicas on different nodes where possible: losing one node keeps the service up.
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: selector,
              },
            ],
            containers: [
              {
                name,
                image: IMAGE,
                command: commandOf(service),
                // `admin`: /metrics (and the gateway's /admin/*), never routed by the Ingress.
                ports: [
                  { name: 'http', containerPort: service.port },
                  { name: 'admin', containerPort: ADMIN_PORT },
                ],
                env: envOf(service, subgraphs),
                // Liveness and readiness wait until the process is up, however slow the start.
                startupProbe: { ...probe('/health/live'), ...LIFECYCLE.startup },
                readinessProbe: probe('/health/ready'),
                livenessProbe: probe('/health/live'),
                // Keep serving while the endpoint removal reaches every proxy, then SIGTERM drains
                // (`sleep` is in the image: Debian slim).
                lifecycle: { preStop: { exec: { command: ['sleep', String(LIFECYCLE.preStopSleepSeconds)] } } },
                resources: {
                  requests: { cpu: CPU[kind].request, memory: `${memory.requestMi}Mi` },
                  limits: { cpu: CPU[kind].limit, memory: `${memory.limitMi}Mi` },
                },
                // The image's code is read-only; tsx keeps its transform cache in /tmp.
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  ...(gateway ? [{ name: 'supergraph', mountPath: SUPERGRAPH_MOUNT, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: {} },
              ...(gateway ? [{ name: 'supergraph', configMap: { name: 'trellis-supergraph' } }] : []),
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      // The public port only: metrics are scraped from the pods (PodMonitor / pod role).
      spec: { selector: selectorOf(service), ports: [{ name: 'http', port: service.port, targetPort: 'http' }] },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: REPLICAS[kind].min,
        maxReplicas: REPLICAS[kind].max,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, labels },
      spec: { minAvailable: 1, selector },
    },
    servicePolicy(service, listServices(subgraphs)),
  ];
}

/** Repository-relative path → content of every generated Kubernetes file. */
export function renderK8s(subgraphs: SubgraphInfo[] = listSubgraphs()): Map<string, string> {
  const services = listServices(subgraphs);
  const files = new Map<string, string>();
  const resources = ['namespace.yaml', 'network.yaml', 'ingress.yaml'];
  files.set(
    `${K8S_BASE}/namespace.yaml`,
    yamlDocs([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: NAMESPACE,
          // Pods that miss the hardening are refused by the API server, not only by tests.
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    ]),
  );
  files.set(`${K8S_BASE}/network.yaml`, yamlDocs(networkPolicies(services)));
  files.set(`${K8S_BASE}/ingress.yaml`, yamlDocs([ingress(services)]));
  for (const service of services) {
    resources.push(`${service.name}.yaml`);
    files.set(`${K8S_BASE}/${service.name}.yaml`, yamlDocs(manifests(service, subgraphs)));
  }
  files.set(`${K8S_BASE}/supergraph.graphql`, readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'));
  files.set(
    `${K8S_BASE}/kustomization.yaml`,
    HEADER +
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        // The base applies as it is too; overlays set their own.
        namespace: NAMESPACE,
        resources,
        configMapGenerator: [
          // Hash-suffixed name: a new supergraph is a new ConfigMap, so the gateways roll (docs/scaling.md).
          { name: 'trellis-supergraph', files: ['supergraph.graphql'] },
          // Overlays replace it (behavior: merge) with their collector's address.
          { name: RUNTIME_CONFIG, literals: ['OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318'] },
        ],
      }),
  );
  for (const [path, content] of renderMonitoring(subgraphs)) files.set(path, content);
  return files;
}

/** The files `pnpm k8s` owns (pnpm compose writes them too). */
export const K8S_FILES: GeneratedFiles = {
  command: 'pnpm k8s',
  prune: [K8S_BASE, `${K8S_ROOT}/components/monitoring`, `${K8S_ROOT}/prometheus`],
};

if (isMainModule(import.meta.url))
  runGenerator(
    K8S_FILES,
    'Regenerates the Kubernetes manifests (ops/k8s/base, ops/k8s/components/monitoring, ops/k8s/prometheus) from the workspace.',
    renderK8s,
  );
