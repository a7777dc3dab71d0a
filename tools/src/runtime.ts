// How every deployable runs in production: its command (ops/start.sh on the bundle `pnpm build`
// writes) and its memory. The Kubernetes generator writes these commands, and
// tools/test/production-command.test.ts holds the image's CMD, docker-compose.yml and
// `pnpm gateway` to them; the load suites and `pnpm bench:gateway` run them.
import type { ServiceInfo } from './workspace.ts';

/** The launcher every deployed service starts through (sizes the heap from the memory limit). */
export const START_SCRIPT = 'ops/start.sh';

/**
 * Memory of each kind of deployable. `limitMi` is the pod's limit (Kubernetes passes it as
 * MEMORY_LIMIT; containers see it as the cgroup limit): ops/start.sh gives V8 an old
 * generation of limit − young generation (3 × `semiSpaceMib`) − OUTSIDE_HEAP_MIB, and refuses
 * to start below `minHeapMib`. The request holds that heap. docs/benchmarks.md ("Gateway
 * memory levers") has the measurements behind the gateway's figures.
 */
export const MEMORY = {
  gateway: { semiSpaceMib: 16, minHeapMib: 256, requestMi: 512, limitMi: 640 },
  subgraph: { semiSpaceMib: 16, minHeapMib: 128, requestMi: 256, limitMi: 384 },
  worker: { semiSpaceMib: 16, minHeapMib: 128, requestMi: 224, limitMi: 384 },
} as const;

/** Allowance for a process's memory outside the V8 heap (code, buffers, malloc); 90–120 MiB measured on the gateway. */
export const OUTSIDE_HEAP_MIB = 128;

/** The V8 old generation ops/start.sh gives a process of this kind under its pod's limit. */
export const heapMibOf = (kind: ServiceInfo['kind']) =>
  MEMORY[kind].limitMi - 3 * MEMORY[kind].semiSpaceMib - OUTSIDE_HEAP_MIB;

/** The bundle a deployable runs (relative to the repository root). */
export function bundleOf(service: Pick<ServiceInfo, 'kind' | 'subgraph'>): string {
  if (service.kind === 'gateway') return 'gateway/dist/main.mjs';
  return `subgraphs/${service.subgraph}/dist/${service.kind === 'worker' ? 'worker' : 'main'}.mjs`;
}

/**
 * The production command of a deployable, without its own arguments (the gateway's
 * `--supergraph FILE`): `ops/start.sh <memory settings> <bundle>`.
 */
export function startCommand(service: Pick<ServiceInfo, 'kind' | 'subgraph'>): string[] {
  const memory = MEMORY[service.kind];
  return [
    START_SCRIPT,
    '--semi-space-mib',
    String(memory.semiSpaceMib),
    '--outside-heap-mib',
    String(OUTSIDE_HEAP_MIB),
    '--min-heap-mib',
    String(memory.minHeapMib),
    bundleOf(service),
  ];
}

/** The gateway's production command (Dockerfile CMD, compose, Kubernetes; `pnpm gateway` adds `--build`). */
export const GATEWAY_COMMAND: readonly string[] = startCommand({ kind: 'gateway' });
