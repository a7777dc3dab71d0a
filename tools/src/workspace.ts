// Discovers the subgraphs of the workspace: every subgraphs/<name>/package.json with a
// `trellis.subgraph` entry. Composition, codegen, the dev runner, migrations and seeds all
// read this one list, so adding a subgraph folder registers it everywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SubgraphInfo {
  name: string;
  port: number;
  dir: string;
  schemaPath: string;
  servicePath: string;
  mainPath: string;
  /** Its job worker (package.json `trellis.worker`), if it has one: src/worker.ts. */
  worker?: { port: number; mainPath: string; secrets: Record<string, string> };
  /** Plain settings its deployments need (package.json `trellis.env`), e.g. another service's URL. */
  env: Record<string, string>;
  /** GraphQL type name → `path#Export` of its mapper (relative to src/generated). */
  mappers: Record<string, string>;
}

export function listSubgraphs(root = ROOT): SubgraphInfo[] {
  const base = join(root, 'subgraphs');
  return readdirSync(base)
    .filter((entry) => existsSync(join(base, entry, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const meta = pkg.trellis ?? {};
      return {
        name: String(meta.subgraph ?? entry),
        port: Number(meta.port),
        dir,
        schemaPath: join(dir, 'src', 'schema.graphql'),
        servicePath: join(dir, 'src', 'service.ts'),
        mainPath: join(dir, 'src', 'main.ts'),
        mappers: meta.mappers ?? {},
        env: meta.env ?? {},
        ...(meta.worker
          ? {
              worker: {
                port: Number(meta.worker.port),
                mainPath: join(dir, 'src', 'worker.ts'),
                // Variable → `<secret name>/<key>` in deployments.
                secrets: meta.worker.secrets ?? {},
              },
            }
          : {}),
      };
    })
    .sort((a, b) => a.port - b.port);
}
