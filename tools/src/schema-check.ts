// `pnpm schema:check [--base REF]`: composes the supergraph from the subgraph SDLs, then
// compares it (what clients see) and each subgraph's SDL with the base revision's. Breaking
// changes fail the check unless acknowledged — one line each, as printed, in
// schema-changes.acknowledged (committed with the change, so it is reviewed). Dangerous
// changes are reported and pass. Base: --base, else SCHEMA_BASE, else `main` when HEAD is
// not main, else HEAD~1 (the last change on main).
//
// Usage-aware (tools/src/usage/check.ts): a breaking change no client used over the window
// (`--window-days N`, default 30) in recorded usage (`--usage FILE`, else DATABASE_URL) nor
// in any client's trusted documents passes as safe, with the evidence; one that is used
// fails naming who uses it. `--json` prints the classification as JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  acknowledgement,
  apiSchemaOf,
  diffSchemas,
  isFederationMachinery,
  type SchemaChange,
  subgraphSchemaOf,
} from '@trellis/composition/changes';
import { readSubgraphSdl, subgraphSdl } from '@trellis/composition/sdl';
import { isMainModule, parseCommand } from '@trellis/config/cli';
import { listSubgraphs, ROOT } from './workspace.ts';

export const ACK_FILE = 'schema-changes.acknowledged';

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

export function resolveBase(root: string, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const head = git(['rev-parse', 'HEAD'], root)?.trim();
  const main = git(['rev-parse', '--verify', 'main'], root)?.trim();
  if (main && head && main !== head) return git(['merge-base', 'HEAD', 'main'], root)?.trim() ?? 'main';
  return git(['rev-parse', '--verify', 'HEAD~1'], root) ? 'HEAD~1' : undefined;
}

export interface CheckResult {
  base: string;
  changes: SchemaChange[];
  unacknowledged: SchemaChange[];
  /** Acknowledgement lines of ACK_FILE. */
  acknowledged: Set<string>;
  /** The base revision's supergraph, when it has one. */
  baseSupergraph?: string | undefined;
  /** The supergraph checked (composed from the working tree). */
  supergraph: string;
}

/** Everything but printing: compose, diff against `base`, apply acknowledgements. */
export function checkSchemas(root: string, base: string, currentSupergraph: string): CheckResult {
  const changes: SchemaChange[] = [];
  const baseSupergraph = git(['show', `${base}:supergraph.graphql`], root);
  if (baseSupergraph)
    changes.push(...diffSchemas('supergraph', apiSchemaOf(baseSupergraph), apiSchemaOf(currentSupergraph)));
  for (const subgraph of listSubgraphs(root)) {
    const path = relative(root, subgraph.schemaPath);
    const before = git(['show', `${base}:${path}`], root);
    if (!before) continue; // a new subgraph: nothing to break
    const after = subgraphSchemaOf(readSubgraphSdl(subgraph.schemaPath));
    const diff = diffSchemas(`subgraph ${subgraph.name}`, subgraphSchemaOf(subgraphSdl(before)), after);
    changes.push(...diff.filter((change) => !isFederationMachinery(change)));
  }
  const ackPath = join(root, ACK_FILE);
  const acknowledged = new Set(
    existsSync(ackPath)
      ? readFileSync(ackPath, 'utf8')
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line && !line.startsWith('#'))
      : [],
  );
  const unacknowledged = changes.filter((c) => c.severity === 'breaking' && !acknowledged.has(acknowledgement(c)));
  return { base, changes, unacknowledged, acknowledged, baseSupergraph, supergraph: currentSupergraph };
}

const SPEC = {
  command: 'pnpm schema:check',
  usage: '[--base REF] [--usage FILE] [--window-days N] [--json]',
  help: `Composes the supergraph from the subgraph SDLs, then compares what clients see and each subgraph's
SDL with the base revision's. Breaking changes fail unless acknowledged in ${ACK_FILE}
(one line each, as printed); dangerous changes are reported and pass. With recorded operation
usage (USAGE_DATABASE_URL/DATABASE_URL, or --usage FILE) and the clients' trusted documents, a
breaking change nobody used passes as safe with the evidence (docs/usage.md).

  --base REF  the revision to compare with (default: SCHEMA_BASE, else the merge base with
              main when HEAD is not main, else HEAD~1)
  --usage FILE       usage exported by pnpm usage:export (default: SCHEMA_USAGE_FILE, else the database)
  --window-days N    how far back usage counts (default 30)
  --json             the classified changes as JSON`,
  options: {
    base: { type: 'string' },
    usage: { type: 'string' },
    'window-days': { type: 'string' },
    json: { type: 'boolean' },
  },
} as const;

async function main(): Promise<void> {
  const { values } = parseCommand(SPEC);
  const argv = process.argv.slice(2);
  // Loaded only once the arguments are good: `--help` and refusals answer without them.
  const [{ CompositionError }, { composeWorkspace }, { schemaCheckEnv }, { reportWithUsage }] = await Promise.all([
    import('@trellis/composition'),
    import('./compose.ts'),
    import('./env.ts'),
    import('./usage/check.ts'),
  ]);
  const base = resolveBase(ROOT, values.base ?? schemaCheckEnv.SCHEMA_BASE);
  let supergraph: string;
  try {
    supergraph = composeWorkspace();
  } catch (error) {
    if (error instanceof CompositionError) {
      process.stderr.write(`schema:check: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  (argv.includes('--json') ? process.stderr : process.stdout).write('composition: ok\n');
  if (!base) {
    process.stdout.write('no base revision to compare with (first commit?): nothing to check\n');
    return;
  }
  const result = checkSchemas(ROOT, base, supergraph);
  if (result.changes.length === 0) {
    process.stdout.write(`no schema changes against ${base}\n`);
    return;
  }
  process.exitCode = await reportWithUsage(result, result.acknowledged, argv, ACK_FILE);
}

if (isMainModule(import.meta.url)) await main();
