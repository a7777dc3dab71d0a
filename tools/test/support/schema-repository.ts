// A throwaway git repository holding the workspace's subgraph SDLs and their supergraph,
// committed once as the base revision, for schema-check tests to change and check.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph } from '@trellis/composition';
import { listSubgraphs } from '../../src/workspace.ts';

export interface SchemaRepository {
  dir: string;
  /** The supergraph of the SDLs as they are now. */
  compose(): string;
  /** Replaces `from` (which must be there) by `to` in a subgraph's SDL. */
  edit(subgraph: string, from: string, to: string): void;
  remove(): void;
}

export function schemaRepository(prefix = 'trellis-schema-check-'): SchemaRepository {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  const compose = () =>
    composeSupergraph(
      listSubgraphs(dir).map((s) => ({
        name: s.name,
        url: `http://${s.name}`,
        sdl: readFileSync(s.schemaPath, 'utf8'),
      })),
    );
  for (const s of listSubgraphs()) {
    cpSync(join(s.dir, 'package.json'), join(dir, 'subgraphs', s.name, 'package.json'));
    cpSync(s.schemaPath, join(dir, 'subgraphs', s.name, 'src', 'schema.graphql'));
  }
  writeFileSync(join(dir, 'supergraph.graphql'), compose());
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'base');
  return {
    dir,
    compose,
    edit(subgraph, from, to) {
      const path = join(dir, 'subgraphs', subgraph, 'src', 'schema.graphql');
      const sdl = readFileSync(path, 'utf8');
      if (!sdl.includes(from))
        throw new Error(`subgraphs/${subgraph}/src/schema.graphql has no ${JSON.stringify(from)}`);
      writeFileSync(path, sdl.replace(from, to));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
