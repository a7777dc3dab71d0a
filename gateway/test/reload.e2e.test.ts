// The gateway reloads its supergraph file when it changes, without failing a request, however
// the file is replaced (written in place, or renamed over it, as editors and ConfigMaps do).
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { composeSupergraph } from '@trellis/composition';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';
import { listSubgraphs } from '../../tools/src/workspace.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
});
afterAll(async () => {
  await graph?.stop();
});

function supergraphOf(names: string[]): string {
  return composeSupergraph(
    listSubgraphs()
      .filter((s) => names.includes(s.name))
      .map((s) => ({ name: s.name, url: graph.subgraphs[s.name]!.url, sdl: readFileSync(s.schemaPath, 'utf8') })),
  );
}

describe('supergraph reload', () => {
  it('serves the new supergraph after the file changes, with no failed request meanwhile', async () => {
    await writeFile(graph.supergraphPath, supergraphOf(['products', 'inventory']));
    const waitFor = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('supergraph was not reloaded within 10 s');
    };
    const reviewCountKnown = async () => {
      const { body } = await graphql(graph.url, '{ product(id: "1") { reviewCount } }');
      return body.errors === undefined;
    };
    await waitFor(async () => !(await reviewCountKnown()));

    // Load during the switch: every answer is a success under one schema or the other.
    let stop = false;
    const failures: unknown[] = [];
    let completed = 0;
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const { status, body } = await graphql(graph.url, '{ product(id: "1") { name inStock } }');
        if (status !== 200 || body.errors) failures.push(body);
        completed++;
      }
    });
    await writeFile(graph.supergraphPath, supergraphOf(listSubgraphs().map((s) => s.name)));
    await waitFor(reviewCountKnown);
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await Promise.all(load);
    expect(completed).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  });

  it('reloads after every atomic replace (rename over the file), not only the first', async () => {
    const replace = async (sdl: string) => {
      await writeFile(`${graph.supergraphPath}.next`, sdl);
      await rename(`${graph.supergraphPath}.next`, graph.supergraphPath);
    };
    const reviewCountKnown = async () =>
      (await graphql(graph.url, '{ product(id: "1") { reviewCount } }')).body.errors === undefined;
    const until = async (want: boolean) => {
      const deadline = Date.now() + 10_000;
      while ((await reviewCountKnown()) !== want) {
        if (Date.now() > deadline)
          throw new Error(`supergraph not reloaded within 10 s (reviews ${want ? 'absent' : 'present'})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    for (let i = 0; i < 2; i++) {
      await replace(supergraphOf(['products', 'inventory']));
      await until(false);
      await replace(supergraphOf(listSubgraphs().map((s) => s.name)));
      await until(true);
    }
  });

  it('keeps the current supergraph when the new file is invalid', async () => {
    await writeFile(graph.supergraphPath, 'this is not a supergraph');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { body } = await graphql(graph.url, '{ product(id: "1") { reviewCount } }');
    expect(body.errors).toBeUndefined();
  });
});
