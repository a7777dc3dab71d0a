// The Kubernetes manifests (ops/k8s/base and the production overlay), checked statically:
// generated and up to date, valid against the Kubernetes API schemas (kubernetes-models),
// every deployable (gateway, subgraphs, workers) with probes on its health endpoints,
// requests and limits, an HPA on CPU and a PDB that select it, its own database Secret, OTLP
// settings, the supergraph as a ConfigMap, Secrets referenced never inlined.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { subgraphEnv, workerEnv } from '@trellis/subgraph-kit/env';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { K8S_DIR, POOL_BUDGET, RUNTIME_CONFIG, renderK8s } from '../src/k8s.ts';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

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
};
/** Every deployable the workspace defines: the gateway, each subgraph, each worker. */
function deployables(): { name: string; port: number; script: string; role?: string }[] {
  return [
    { name: 'gateway', port: 4000, script: 'gateway/bin/gateway.mjs' },
    ...listSubgraphs().map((s) => ({
      name: s.name,
      port: s.port,
      script: `subgraphs/${s.name}/src/main.ts`,
      role: s.name,
    })),
    ...listSubgraphs()
      .filter((s) => s.worker)
      .map((s) => ({
        name: `${s.name}-worker`,
        port: s.worker!.port,
        script: `subgraphs/${s.name}/src/worker.ts`,
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
    for (const [name, content] of renderK8s()) expect(readFileSync(join(K8S_DIR, name), 'utf8'), name).toBe(content);
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
    for (const { name, port, script, role } of deployables()) {
      const deployment = of('Deployment', name);
      expect(deployment, name).toBeDefined();
      const pod = deployment!.spec.template;
      expect(deployment!.spec.selector.matchLabels).toEqual(pod.metadata.labels);
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      const container = pod.spec.containers[0];
      expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      for (const bound of ['requests', 'limits']) {
        expect(container.resources[bound].cpu, `${name} ${bound}`).toBeTruthy();
        expect(container.resources[bound].memory, `${name} ${bound}`).toBeTruthy();
      }
      expect(container.command.at(-1) === script || container.command.includes(script), name).toBe(true);
      expect(existsSync(join(ROOT, script)), script).toBe(true);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(port));
      const env = envOf(deployment!);
      expect(env.OTEL_SERVICE_NAME?.value).toBe(name);
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT?.valueFrom.configMapKeyRef.name).toBe(RUNTIME_CONFIG);
      // A subgraph and its worker connect as the subgraph's own role, from its own Secret.
      if (role) expect(env.DATABASE_URL?.valueFrom.secretKeyRef.name).toBe(`trellis-${role}-db`);
      const service = of('Service', name);
      expect(service!.spec.selector).toEqual(pod.metadata.labels);
      expect(service!.spec.ports[0]).toMatchObject({ port, targetPort: 'http' });
      const hpa = of('HorizontalPodAutoscaler', name);
      expect(hpa!.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa!.spec.metrics[0].resource.name).toBe('cpu');
      expect(of('PodDisruptionBudget', name)!.spec.selector.matchLabels).toEqual(pod.metadata.labels);
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

  it('have a production overlay that builds on the base, references Secrets only and patches valid objects', () => {
    const dir = join(ROOT, 'ops', 'k8s', 'overlays', 'production');
    const overlay = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images: { name: string; newName?: string; newTag?: string }[];
      configMapGenerator?: { name: string; behavior?: string; literals?: string[] }[];
      secretGenerator?: unknown[];
      patches?: { target: { kind: string; name: string }; patch: string }[];
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
    }
    expect(existsSync(join(dirname(K8S_DIR), 'base', 'kustomization.yaml'))).toBe(true);
  });
});
