// Production runs one command per deployable (tools/src/runtime.ts: ops/start.sh on the
// service's bundle), wherever it runs: the image's CMD, docker-compose.yml, the Kubernetes
// manifests and `pnpm gateway` (which may build first). Their memory limits are the same too,
// and each leaves ops/start.sh a heap at or above the service's minimum.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { K8S_DIR } from '../src/k8s.ts';
import { GATEWAY_COMMAND, heapMibOf, MEMORY, OUTSIDE_HEAP_MIB, startCommand } from '../src/runtime.ts';
import { listServices, ROOT } from '../src/workspace.ts';

interface Container {
  command: string[];
  resources: { limits: { memory: string } };
  env: { name: string; valueFrom?: { resourceFieldRef?: { resource: string } } }[];
}
const deployments = new Map<string, Container>();
for (const file of readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8').match(/[\w-]+\.yaml/g) ?? [])
  for (const doc of parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((d) => d.toJS()))
    if (doc?.kind === 'Deployment') deployments.set(doc.metadata.name, doc.spec.template.spec.containers[0]);
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; mem_limit?: string }>;
};
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

describe('the production command', () => {
  it('is the same for every deployable in Kubernetes and compose, with the same memory limit', () => {
    const services = listServices();
    expect(services.length).toBeGreaterThan(5);
    for (const service of services) {
      const command = startCommand(service);
      const args = service.kind === 'gateway' ? ['--supergraph'] : [];
      const container = deployments.get(service.name);
      expect(container, service.name).toBeDefined();
      expect(container!.command.slice(0, command.length + args.length), service.name).toEqual([...command, ...args]);
      expect(container!.resources.limits.memory, service.name).toBe(`${MEMORY[service.kind].limitMi}Mi`);
      // ops/start.sh reads the limit from MEMORY_LIMIT: the pod's own limit.
      const limit = container!.env.find((e) => e.name === 'MEMORY_LIMIT');
      expect(limit?.valueFrom?.resourceFieldRef?.resource, service.name).toBe('limits.memory');

      const composed = compose.services[service.name];
      expect(composed?.command?.slice(0, command.length + args.length), service.name).toEqual([...command, ...args]);
      expect(composed?.mem_limit, service.name).toBe(`${MEMORY[service.kind].limitMi}m`);
    }
    // No TypeScript at run time anywhere in the stack.
    for (const [name, service] of Object.entries(compose.services))
      expect(service.command?.join(' ') ?? '', name).not.toMatch(/tsx|\.ts\b/);
  });

  it("is the image's CMD and `pnpm gateway` (which builds a stale bundle first)", () => {
    const dockerfile = readFileSync(join(ROOT, 'ops', 'Dockerfile'), 'utf8');
    const cmd = [...dockerfile.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(GATEWAY_COMMAND);
    const [script, ...rest] = GATEWAY_COMMAND;
    expect(scripts.gateway).toBe([script, '--build', ...rest].join(' '));
  });

  it('leaves every kind of deployable at least its minimum heap under its limit', () => {
    for (const kind of ['gateway', 'subgraph', 'worker'] as const) {
      expect(heapMibOf(kind), kind).toBeGreaterThanOrEqual(MEMORY[kind].minHeapMib);
      expect(heapMibOf(kind) + 3 * MEMORY[kind].semiSpaceMib + OUTSIDE_HEAP_MIB, kind).toBe(MEMORY[kind].limitMi);
      // The request holds the heap.
      expect(MEMORY[kind].requestMi, kind).toBeGreaterThanOrEqual(heapMibOf(kind));
    }
  });
});
