// Discovers the subgraphs of the workspace: every subgraphs/<name>/package.json with a
// `trellis.subgraph` entry. Composition, codegen, the dev runner, migrations and seeds all
// read this one list, so adding a subgraph folder registers it everywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Node flags every service process starts with: tsx, then the telemetry preload (before the
 * application, so http and graphql are instrumented).
 */
export const SERVICE_NODE_FLAGS = ['--import', 'tsx', '--import', '@trellis/telemetry/setup'] as const;

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SubgraphInfo {
  name: string;
  port: number;
  dir: string;
  schemaPath: string;
  servicePath: string;
  mainPath: string;
  /** Its job worker (package.json `trellis.worker`), if it has one: src/worker.ts, health and /metrics on `port`. */
  worker?: { port: number; mainPath: string; secrets: Record<string, string> };
  /** Plain settings its deployments need (package.json `trellis.env`), e.g. another service's URL. */
  env: Record<string, string>;
  /** Secrets its service deployment needs (package.json `trellis.secrets`): variable → `<secret>/<key>`. */
  secrets: Record<string, string>;
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
        secrets: meta.secrets ?? {},
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
