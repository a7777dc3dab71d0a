// The Kubernetes manifests (ops/k8s/base and the production overlay), checked statically:
// generated and up to date, valid against the Kubernetes API schemas (kubernetes-models),
// every deployable (gateway, subgraphs, workers) with startup, readiness and liveness probes,
// a pre-stop delay inside the grace period, requests and limits that hold its V8 heap, an HPA
// on CPU and a PDB that select it, its own ServiceAccount without a token, the Pod Security
// "restricted" level, its own database Secret, OTLP settings, the supergraph as a
// hash-named ConfigMap (a new one rolls the gateways), Secrets referenced never inlined.
// Monitoring: k8s-monitoring.test.ts; network policies and the Ingress: k8s-network.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { subgraphEnv, workerEnv } from '@trellis/subgraph-kit/env';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  K8S_DIR,
  LIFECYCLE,
  type MEMORY,
  OUTSIDE_HEAP_MIB,
  POOL_BUDGET,
  RUNTIME_CONFIG,
  renderK8s,
} from '../src/k8s.ts';
import { heapMibOf } from '../src/runtime.ts';
import { ADMIN_PORT, listServices, listSubgraphs, ROOT } from '../src/workspace.ts';
import { restrictedViolations } from './support/pod-security.ts';

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any };
const kustomization = parseAllDocuments(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as {
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
};
const docs: Doc[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((d) => d.toJS() as Doc),
);
const of = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const SECRET_LIKE = /SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|JWKS/;
/** Validators from the Kubernetes OpenAPI schemas, per kind the base emits. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  Deployment,
  Service,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  Namespace,
  ServiceAccount,
  NetworkPolicy,
  Ingress,
};
/** Every deployable the workspace defines: the gateway, each subgraph, each worker. */
function deployables(): { name: string; port: number; script: string; source: string; role?: string }[] {
  return [
    { name: 'gateway', port: 4000, script: 'gateway/dist/main.mjs', source: 'gateway/src/main.ts' },
    ...listSubgraphs().map((s) => ({
      name: s.name,
      port: s.port,
      script: `subgraphs/${s.name}/dist/main.mjs`,
      source: relative(ROOT, s.mainPath),
      role: s.name,
    })),
    ...listSubgraphs()
      .filter((s) => s.worker)
      .map((s) => ({
        name: `${s.name}-worker`,
        port: s.worker!.port,
        script: `subgraphs/${s.name}/dist/worker.mjs`,
        source: relative(ROOT, s.worker!.mainPath),
        role: s.name,
      })),
  ];
}
const envOf = (deployment: Doc) =>
  Object.fromEntries(
    (deployment.spec.template.spec.containers[0].env as { name: string }[]).map((e) => [e.name, e]),
  ) as Record<string, { value?: string; valueFrom?: any }>;

describe('Kubernetes manifests', () => {
  it('are generated from the workspace and up to date (run `pnpm k8s`)', () => {
    for (const [path, content] of renderK8s()) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(content);
  });

  it('are valid against the Kubernetes API schemas', () => {
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      const Model = MODELS[doc.kind];
      expect(Model, `a validator for ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('deploy the gateway, every subgraph and every worker with probes, resources, an HPA on CPU and a PDB', () => {
    expect(
      docs
        .filter((d) => d.kind === 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(
      deployables()
        .map((d) => d.name)
        .sort(),
    );
    for (const { name, port, script, source, role } of deployables()) {
      const deployment = of('Deployment', name);
      expect(deployment, name).toBeDefined();
      const pod = deployment!.spec.template;
      expect(pod.metadata.labels).toMatchObject(deployment!.spec.selector.matchLabels);
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      const container = pod.spec.containers[0];
      expect(container.ports).toEqual([
        { name: 'http', containerPort: port },
        { name: 'admin', containerPort: ADMIN_PORT },
      ]);
      expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      for (const bound of ['requests', 'limits']) {
        expect(container.resources[bound].cpu, `${name} ${bound}`).toBeTruthy();
        expect(container.resources[bound].memory, `${name} ${bound}`).toBeTruthy();
      }
      expect(container.command.at(-1) === script || container.command.includes(script), name).toBe(true);
      // The bundle is built (`pnpm build`, the image's build stage) from this source.
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      const env = envOf(deployment!);
      expect(env.ADMIN_PORT?.value, name).toBe(String(ADMIN_PORT));
      expect(env.OTEL_SERVICE_NAME?.value).toBe(name);
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT?.valueFrom.configMapKeyRef.name).toBe(RUNTIME_CONFIG);
      // A subgraph and its worker connect as the subgraph's own role, from its own Secret.
      if (role) expect(env.DATABASE_URL?.valueFrom.secretKeyRef.name).toBe(`trellis-${role}-db`);
      const service = of('Service', name);
      expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels);
      expect(service!.spec.ports[0]).toMatchObject({ port, targetPort: 'http' });
      const hpa = of('HorizontalPodAutoscaler', name);
      expect(hpa!.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa!.spec.metrics[0].resource.name).toBe('cpu');
      expect(of('PodDisruptionBudget', name)!.spec.selector.matchLabels).toEqual(deployment!.spec.selector.matchLabels);
    }
  });

  it('references Secrets by name and never inlines one', () => {
    for (const deployment of docs.filter((d) => d.kind === 'Deployment')) {
      for (const env of deployment.spec.template.spec.containers[0].env) {
        if (SECRET_LIKE.test(env.name)) {
          expect(env.value, `${deployment.metadata.name} ${env.name}`).toBeUndefined();
          expect(env.valueFrom.secretKeyRef.name, `${deployment.metadata.name} ${env.name}`).toMatch(/^trellis-/);
        }
      }
    }
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
  });

  it('mounts the supergraph from a ConfigMap and routes the gateway to every subgraph Service', () => {
    expect(kustomization.configMapGenerator).toContainEqual({
      name: 'trellis-supergraph',
      files: ['supergraph.graphql'],
    });
    expect(readFileSync(join(K8S_DIR, 'supergraph.graphql'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'),
    );
    const gateway = of('Deployment', 'gateway')!.spec.template.spec;
    expect(gateway.volumes).toContainEqual({ name: 'supergraph', configMap: { name: 'trellis-supergraph' } });
    expect(gateway.containers[0].command).toContain('/etc/trellis/supergraph.graphql');
    const env = Object.fromEntries(
      gateway.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    for (const subgraph of listSubgraphs()) {
      expect(env[`SUBGRAPH_URL_${subgraph.name.toUpperCase()}`]).toBe(
        `http://${subgraph.name}:${subgraph.port}/graphql`,
      );
      expect(of('Service', subgraph.name)!.spec.ports[0].port).toBe(subgraph.port);
    }
  });

  it("keep every database connection at full scale within Postgres' max_connections (docs/scaling.md)", () => {
    let total = POOL_BUDGET.reserved;
    for (const deployment of docs.filter((d) => d.kind === 'Deployment')) {
      const env = envOf(deployment);
      if (!env.DATABASE_URL) continue;
      const name = deployment.metadata.name;
      // The pool sizes the process itself would use: its manifest's values read through the
      // service's own environment schema (so a variable left out counts at the code's default).
      const source = {
        DATABASE_URL: 'postgres://budget@127.0.0.1:5432/budget',
        DB_POOL_MAX: env.DB_POOL_MAX?.value,
        JOBS_POOL_MAX: env.JOBS_POOL_MAX?.value,
      };
      const perPod = name.endsWith('-worker')
        ? workerEnv(0, source).DB_POOL_MAX + workerEnv(0, source).JOBS_POOL_MAX + POOL_BUDGET.probe
        : subgraphEnv(0, source).DB_POOL_MAX + POOL_BUDGET.probe;
      const pods =
        of('HorizontalPodAutoscaler', name)!.spec.maxReplicas + deployment.spec.strategy.rollingUpdate.maxSurge;
      total += pods * perPod;
    }
    expect(total).toBeLessThanOrEqual(POOL_BUDGET.maxConnections * (1 - POOL_BUDGET.headroom));
  });

  it('harden every pod to the Pod Security "restricted" level, with its own ServiceAccount and no token', () => {
    const namespace = of('Namespace', 'trellis');
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(
      listServices()
        .map((s) => s.name)
        .sort(),
    );
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const pod = deployment.spec.template.spec;
      expect(restrictedViolations(name, pod)).toEqual([]);
      expect(pod.automountServiceAccountToken, name).toBe(false);
      expect(pod.serviceAccountName, name).toBe(name);
      expect(
        (of('ServiceAccount', name) as { automountServiceAccountToken?: boolean } | undefined)
          ?.automountServiceAccountToken,
        name,
      ).toBe(false);
    }
  });

  it('refuse a pod spec without the hardening, naming the deployment', () => {
    const pod = structuredClone(of('Deployment', 'orders')!.spec.template.spec);
    delete pod.securityContext.seccompProfile;
    delete pod.containers[0].securityContext.seccompProfile;
    delete pod.containers[0].securityContext.allowPrivilegeEscalation;
    pod.containers[0].securityContext.capabilities = { add: ['NET_ADMIN'] };
    pod.volumes.push({ name: 'host', hostPath: { path: '/' } });
    expect(restrictedViolations('orders', pod)).toEqual([
      'orders: volume host is of type hostPath',
      'orders: container orders does not set allowPrivilegeEscalation: false',
      'orders: container orders has no seccompProfile RuntimeDefault or Localhost (unset)',
      'orders: container orders does not drop ALL capabilities',
      'orders: container orders adds capability NET_ADMIN',
    ]);
  });

  it('give every pod a startup probe, and a pre-stop delay plus drain that fit its grace period', () => {
    // The longest shutdown a process allows itself: exitOnSignals' 15 s, or a worker's drain + 10 s.
    const workerDrain = workerEnv(0, { DATABASE_URL: 'postgres://u@h/db' }).JOBS_DRAIN_TIMEOUT_MS / 1000 + 10;
    expect(Math.max(15, workerDrain)).toBeLessThanOrEqual(LIFECYCLE.shutdownSeconds);
    for (const deployment of docs.filter((d) => d.kind === 'Deployment')) {
      const name = deployment.metadata.name;
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      expect(container.lifecycle.preStop.exec.command, name).toEqual(['sleep', String(LIFECYCLE.preStopSleepSeconds)]);
      expect(LIFECYCLE.preStopSleepSeconds + LIFECYCLE.shutdownSeconds, name).toBeLessThanOrEqual(
        pod.terminationGracePeriodSeconds,
      );
      expect(
        container.startupProbe.periodSeconds * container.startupProbe.failureThreshold,
        name,
      ).toBeGreaterThanOrEqual(60);
      // The startup probe holds liveness off while the process starts: no fixed initial delay.
      expect(container.livenessProbe.initialDelaySeconds, name).toBeUndefined();
    }
  });

  it("size every pod's memory to the V8 heap its process runs with", () => {
    const mebibytes = (quantity: string) => {
      const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
      expect(match, quantity).not.toBeNull();
      return Number(match![1]) * (match![2] === 'Gi' ? 1024 : 1);
    };
    const option = (command: string[], name: string) => Number(command[command.indexOf(`--${name}`) + 1]);
    for (const deployment of docs.filter((d) => d.kind === 'Deployment')) {
      const name = deployment.metadata.name;
      const container = deployment.spec.template.spec.containers[0];
      const kind = deployment.metadata.labels!['app.kubernetes.io/component'] as keyof typeof MEMORY;
      // ops/start.sh: heap = limit - young generation (3 semi-spaces) - outside the heap.
      const limit = mebibytes(container.resources.limits.memory);
      const heap =
        limit - 3 * option(container.command, 'semi-space-mib') - option(container.command, 'outside-heap-mib');
      expect(option(container.command, 'outside-heap-mib'), name).toBe(OUTSIDE_HEAP_MIB);
      expect(heap, `${name}: heap at or above its minimum`).toBeGreaterThanOrEqual(
        option(container.command, 'min-heap-mib'),
      );
      expect(heap, name).toBe(heapMibOf(kind));
      expect(mebibytes(container.resources.requests.memory), `${name}: request holds the heap`).toBeGreaterThanOrEqual(
        heap,
      );
    }
  });

  it('roll the gateways when the supergraph changes: hash-named ConfigMap, mounted as a directory', () => {
    const generator = (
      kustomization.configMapGenerator as { name: string; options?: { disableNameSuffixHash?: boolean } }[]
    ).find((g) => g.name === 'trellis-supergraph');
    // kustomize names it trellis-supergraph-<content hash>: new content, new name, a new pod template.
    expect(generator?.options?.disableNameSuffixHash).toBeUndefined();
    const mount = of('Deployment', 'gateway')!.spec.template.spec.containers[0].volumeMounts.find(
      (m: { name: string }) => m.name === 'supergraph',
    );
    // No subPath: a subPath mount would never see an in-place update of the ConfigMap.
    expect(mount).toEqual({ name: 'supergraph', mountPath: '/etc/trellis', readOnly: true });
  });

  it('have a production overlay that builds on the base, references Secrets only and patches valid objects', () => {
    const dir = join(ROOT, 'ops', 'k8s', 'overlays', 'production');
    const overlay = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images: { name: string; newName?: string; newTag?: string }[];
      configMapGenerator?: { name: string; behavior?: string; literals?: string[] }[];
      secretGenerator?: unknown[];
      patches?: { target: { kind: string; name: string }; patch: string }[];
      components?: string[];
    };
    expect(overlay.resources.map((r) => join(dir, r))).toEqual([K8S_DIR]);
    expect(overlay.secretGenerator, 'secrets are created out of band').toBeUndefined();
    const baseImages = new Set(
      docs.filter((d) => d.kind === 'Deployment').map((d) => d.spec.template.spec.containers[0].image.split(':')[0]),
    );
    for (const image of overlay.images) expect(baseImages.has(image.name), image.name).toBe(true);
    const baseGenerators = (kustomization.configMapGenerator as { name: string }[]).map((g) => g.name);
    for (const generator of overlay.configMapGenerator ?? []) {
      expect(generator.behavior).toBe('merge');
      expect(baseGenerators).toContain(generator.name);
      for (const literal of generator.literals ?? []) expect(literal).not.toMatch(SECRET_LIKE);
    }
    // Apply each JSON 6902 patch to its target the way kustomize would (replace needs an
    // existing path), then validate the result against the API schema.
    for (const { target, patch } of overlay.patches ?? []) {
      const doc = structuredClone(of(target.kind, target.name));
      expect(doc, `${target.kind} ${target.name}`).toBeDefined();
      for (const op of parse(patch) as { op: string; path: string; value: unknown }[]) {
        const keys = op.path.split('/').slice(1);
        const parent = keys.slice(0, -1).reduce((node: any, key) => node?.[key], doc);
        expect(parent, op.path).toBeDefined();
        if (op.op === 'replace') expect(parent[keys.at(-1)!], op.path).toBeDefined();
        parent[keys.at(-1)!] = op.value;
      }
      expect(() => new MODELS[target.kind]!(doc).validate()).not.toThrow();
      if (target.kind === 'Ingress') {
        // TLS for the host it serves, which is the public origin of invoice links.
        const spec = (doc as Doc).spec;
        expect(spec.tls[0].hosts).toEqual([spec.rules[0].host]);
        expect(spec.tls[0].secretName).toMatch(/^trellis-/);
        const orders = listSubgraphs().find((s) => s.name === 'orders')!;
        expect(new URL(orders.env.INVOICE_BASE_URL!).hostname).toBe(spec.rules[0].host);
      }
    }
    expect(
      overlay.patches?.some((p) => p.target.kind === 'Ingress'),
      'the overlay sets the Ingress host and TLS',
    ).toBe(true);
    for (const component of overlay.components ?? [])
      expect(existsSync(join(dir, component, 'kustomization.yaml')), component).toBe(true);
    expect(existsSync(join(dirname(K8S_DIR), 'base', 'kustomization.yaml'))).toBe(true);
  });
});
