// The gateway notices every way a supergraph file gets replaced, not only the first: written
// in place, renamed over (editors, `pnpm compose`), and swapped behind the `..data` symlink
// the way the kubelet updates a mounted ConfigMap — each time, and an invalid file keeps the
// current schema. Real files and the real watcher (gateway/src/supergraph.ts).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@trellis/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/src/workspace.ts';
import { fileSupergraph } from '../src/supergraph.ts';

const base = readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8');
const version = (n: number) => `${base}\n# version ${n}\n`;
const logger = createLogger({ service: 'test', level: 'silent' });

let dir: string;
let updates: string[];
let cleanup: (() => Promise<void>) | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-supergraph-'));
  updates = [];
});
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function watching(path: string, initial: string): Promise<void> {
  const manager = fileSupergraph(path, initial, logger);
  const result = await manager.initialize({
    update: (sdl: string) => void updates.push(sdl),
    healthCheck: async () => {},
    getDataSource: () => {
      throw new Error('not used');
    },
  } as never);
  cleanup = (result as { cleanup?: () => Promise<void> }).cleanup;
}

/** Waits until the watcher has pushed `sdl` (or fails after 5 s). */
async function served(sdl: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (updates.at(-1) === sdl) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`supergraph not reloaded (last update: ${updates.at(-1)?.slice(-14) ?? 'none'})`);
}

describe('supergraph file watching', () => {
  it('reloads on every atomic replace by rename, and on writes in place', async () => {
    const path = join(dir, 'supergraph.graphql');
    writeFileSync(path, version(0));
    await watching(path, version(0));
    for (const n of [1, 2, 3]) {
      writeFileSync(`${path}.tmp`, version(n));
      renameSync(`${path}.tmp`, path);
      await served(version(n));
    }
    writeFileSync(path, version(4));
    await served(version(4));
  });

  it('reloads on every ConfigMap-style ..data symlink swap', async () => {
    // The kubelet's layout: file → ..data/file, ..data → ..<timestamp>/ (swapped by rename).
    const publish = (n: number) => {
      const folder = `..2026_12_04_0${n}`;
      mkdirSync(join(dir, folder));
      writeFileSync(join(dir, folder, 'supergraph.graphql'), version(n));
      symlinkSync(folder, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      if (n > 0) rmSync(join(dir, `..2026_12_04_0${n - 1}`), { recursive: true });
    };
    publish(0);
    symlinkSync(join('..data', 'supergraph.graphql'), join(dir, 'supergraph.graphql'));
    await watching(join(dir, 'supergraph.graphql'), version(0));
    for (const n of [1, 2, 3]) {
      publish(n);
      await served(version(n));
    }
  });

  it('keeps the current supergraph when the new file is invalid, and takes the next valid one', async () => {
    const path = join(dir, 'supergraph.graphql');
    writeFileSync(path, version(0));
    await watching(path, version(0));
    writeFileSync(`${path}.tmp`, 'type Query { broken');
    renameSync(`${path}.tmp`, path);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(updates).toEqual([]);
    writeFileSync(`${path}.tmp`, version(1));
    renameSync(`${path}.tmp`, path);
    await served(version(1));
    expect(updates).toEqual([version(1)]);
  });
});
