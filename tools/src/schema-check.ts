// `pnpm schema:check [--base REF]`: composes the supergraph from the subgraph SDLs, then
// compares it (what clients see) and each subgraph's SDL with the base revision's. Breaking
// changes fail the check unless acknowledged — one line each, as printed, in
// schema-changes.acknowledged (committed with the change, so it is reviewed). Dangerous
// changes are reported and pass. Base: --base, else SCHEMA_BASE, else `main` when HEAD is
// not main, else HEAD~1 (the last change on main).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CompositionError } from '@trellis/composition';
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
import { composeWorkspace } from './compose.ts';
import { schemaCheckEnv } from './env.ts';
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
  return { base, changes, unacknowledged };
}

const SPEC = {
  command: 'pnpm schema:check',
  usage: '[--base REF]',
  help: `Composes the supergraph from the subgraph SDLs, then compares what clients see and each subgraph's
SDL with the base revision's. Breaking changes fail unless acknowledged in ${ACK_FILE}
(one line each, as printed); dangerous changes are reported and pass.

  --base REF  the revision to compare with (default: SCHEMA_BASE, else the merge base with
              main when HEAD is not main, else HEAD~1)`,
  options: { base: { type: 'string' } },
} as const;

function main(): void {
  const { values } = parseCommand(SPEC);
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
  process.stdout.write('composition: ok\n');
  if (!base) {
    process.stdout.write('no base revision to compare with (first commit?): nothing to check\n');
    return;
  }
  const result = checkSchemas(ROOT, base, supergraph);
  if (result.changes.length === 0) {
    process.stdout.write(`no schema changes against ${base}\n`);
    return;
  }
  for (const change of result.changes) {
    const mark =
      change.severity === 'breaking'
        ? result.unacknowledged.includes(change)
          ? 'BREAKING'
          : 'breaking (acknowledged)'
        : 'dangerous';
    process.stdout.write(`${mark}  ${change.scope}: ${change.description}\n    ${change.type}: ${change.why}\n`);
  }
  if (result.unacknowledged.length > 0) {
    process.stderr.write(
      `\n${result.unacknowledged.length} breaking change(s) against ${base}. If intended, add these lines to ${ACK_FILE}:\n${result.unacknowledged.map(acknowledgement).join('\n')}\n`,
    );
    process.exit(1);
  }
}

if (isMainModule(import.meta.url)) main();
