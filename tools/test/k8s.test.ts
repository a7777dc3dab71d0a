// The Kubernetes manifests (ops/k8s/base), checked statically: generated and up to date,
// every deployable with probes on its health endpoints, requests and limits, an HPA on CPU
// and a PDB that select it, the supergraph as a ConfigMap, Secrets referenced never inlined.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { K8S_DIR, renderK8s } from '../src/k8s.ts';
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

describe('Kubernetes manifests', () => {
  it('are generated from the workspace and up to date (run `pnpm k8s`)', () => {
    for (const [name, content] of renderK8s()) expect(readFileSync(join(K8S_DIR, name), 'utf8'), name).toBe(content);
  });

  it('deploy the gateway and every subgraph with probes, resources, an HPA on CPU and a PDB', () => {
    const deployables = [
      { name: 'gateway', port: 4000 },
      ...listSubgraphs().map((s) => ({ name: s.name, port: s.port })),
    ];
    for (const { name, port } of deployables) {
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
      const script = container.command.find((part: string) => /\.(ts|mjs)$/.test(part));
      expect(readFileSync(join(ROOT, script), 'utf8').length, script).toBeGreaterThan(0);
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
    expect(kustomization.configMapGenerator).toEqual([{ name: 'trellis-supergraph', files: ['supergraph.graphql'] }]);
    expect(readFileSync(join(K8S_DIR, 'supergraph.graphql'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'),
    );
    const gateway = of('Deployment', 'gateway')!.spec.template.spec;
    expect(gateway.volumes).toEqual([{ name: 'supergraph', configMap: { name: 'trellis-supergraph' } }]);
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
});
