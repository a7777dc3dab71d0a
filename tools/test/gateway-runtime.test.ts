// The gateway process runs with the same Node flags wherever it runs (GATEWAY_NODE_FLAGS:
// Kubernetes, the image, compose, `pnpm gateway`; the load and fuzz suites spawn it with them
// too), and its V8 heap ceiling leaves room in its Kubernetes memory limit for the young
// generation and what lives outside the V8 heap (docs/reliability.md, "Gateway memory").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { K8S_DIR } from '../src/k8s.ts';
import {
  GATEWAY_HEAP_MIB,
  GATEWAY_NODE_FLAGS,
  GATEWAY_OUTSIDE_HEAP_MIB,
  ROOT,
  SERVICE_NODE_FLAGS,
} from '../src/workspace.ts';

const deployment = readFileSync(join(K8S_DIR, 'gateway.yaml'), 'utf8')
  .split(/^---$/m)
  .map((doc) => parse(doc))
  .find((doc) => doc?.kind === 'Deployment') as {
  kind: string;
  spec: {
    template: { spec: { containers: { command: string[]; resources: { limits: { memory: string } } }[] } };
  };
};
const container = deployment.spec.template.spec.containers[0]!;

/** A Kubernetes quantity (`512Mi`, `1Gi`) in MiB. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`Unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('gateway runtime', () => {
  it('starts with GATEWAY_NODE_FLAGS in Kubernetes, the image, compose and `pnpm gateway`', () => {
    expect(deployment.kind).toBe('Deployment');
    expect(container.command.slice(0, GATEWAY_NODE_FLAGS.length + 2)).toEqual([
      'node',
      ...GATEWAY_NODE_FLAGS,
      'gateway/bin/gateway.mjs',
    ]);

    const dockerfile = readFileSync(join(ROOT, 'ops', 'Dockerfile'), 'utf8');
    const cmd = [...dockerfile.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', ...GATEWAY_NODE_FLAGS, 'gateway/bin/gateway.mjs']);

    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[] }>;
    };
    expect(
      compose.services.gateway?.command?.slice(0, 1 + GATEWAY_NODE_FLAGS.length + SERVICE_NODE_FLAGS.length + 1),
    ).toEqual(['node', ...GATEWAY_NODE_FLAGS, ...SERVICE_NODE_FLAGS, 'gateway/src/main.ts']);

    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.gateway).toBe(['node', ...GATEWAY_NODE_FLAGS, 'gateway/bin/gateway.mjs'].join(' '));
  });

  it('keeps its heap ceiling, young generation and memory outside the heap within its memory limit', () => {
    const semiSpace = Number(/^--max-semi-space-size=(\d+)$/.exec(GATEWAY_NODE_FLAGS[0] ?? '')?.[1]);
    expect(GATEWAY_NODE_FLAGS).toContain(`--max-old-space-size=${GATEWAY_HEAP_MIB}`);
    expect(semiSpace).toBeGreaterThan(0);
    // The young generation is two semi-spaces.
    const worstCase = GATEWAY_HEAP_MIB + 2 * semiSpace + GATEWAY_OUTSIDE_HEAP_MIB;
    expect(worstCase).toBeLessThanOrEqual(mebibytes(container.resources.limits.memory));
  });
});
