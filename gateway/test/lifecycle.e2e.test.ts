// SIGTERM on a real gateway process: stop accepting, finish the requests in flight, exit 0
// within a bound.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph } from '@trellis/composition';
import { freePort } from '@trellis/db/embedded';
import { graphql } from '@trellis/testing';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';
import { portAcceptsConnections, spawnDeployed, spawnService, waitForStatus } from '../../tools/src/process.ts';
import { GATEWAY_COMMAND } from '../../tools/src/runtime.ts';
import { listSubgraphs, ROOT } from '../../tools/src/workspace.ts';

let graph: TestGraph;
let proxy: FaultProxy;
let dir: string;
let supergraphPath: string;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  const products = new URL(graph.subgraphs.products!.url);
  // Products answers 1 s late, so a request is surely in flight when SIGTERM arrives.
  proxy = await startFaultProxy({
    target: { host: products.hostname, port: Number(products.port) },
    mode: 'latency',
    latencyMs: 1000,
  });
  dir = await mkdtemp(join(tmpdir(), 'trellis-lifecycle-'));
  supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(
    supergraphPath,
    composeSupergraph(
      listSubgraphs().map((s) => ({
        name: s.name,
        url: s.name === 'products' ? proxy.url('/graphql') : graph.subgraphs[s.name]!.url,
        sdl: readFileSync(s.schemaPath, 'utf8'),
      })),
    ),
  );
});
afterAll(async () => {
  await proxy?.close();
  await graph?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('gateway lifecycle', () => {
  // From its sources (tsx, as `pnpm dev` runs it) and as deployed: the production command
  // (ops/start.sh execs node on the bundle, so the signal reaches the gateway itself).
  it.each([
    ['from its sources', false],
    ['as deployed', true],
  ])('%s: drains in-flight requests on SIGTERM, refuses new connections, and exits 0', async (_how, deployed) => {
    const port = await freePort();
    const args = ['--supergraph', supergraphPath, '--port', String(port)];
    const gateway = deployed
      ? spawnDeployed(GATEWAY_COMMAND, args, { NODE_ENV: 'test' })
      : spawnService(join(ROOT, 'gateway', 'src', 'main.ts'), args, { NODE_ENV: 'test' }, ROOT);
    try {
      await waitForStatus(`http://127.0.0.1:${port}/health/ready`);
      const inFlight = graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { id name } }');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalled = Date.now();
      gateway.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await portAcceptsConnections(port)).toBe(false);
      const { status, body } = await inFlight;
      expect(status).toBe(200);
      expect(body).toEqual({ data: { product: { id: '1', name: expect.any(String) } } });
      const exit = await gateway.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(5_000);
    } finally {
      gateway.killAll();
    }
  });
});
