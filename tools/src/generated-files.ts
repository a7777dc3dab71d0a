// Files the tooling generates from the workspace (`pnpm k8s`, `pnpm ops`, both run by
// `pnpm compose`): written, or with `--check` compared with the committed ones, naming
// every stale file.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseCommand } from '@trellis/config/cli';
import { ROOT } from './workspace.ts';

/** Repository-relative paths whose committed content differs from `files` (or is missing). */
export function staleFiles(files: Map<string, string>): string[] {
  return [...files]
    .filter(([path, content]) => !existsSync(join(ROOT, path)) || readFileSync(join(ROOT, path), 'utf8') !== content)
    .map(([path]) => path);
}

/** Every file under a folder, recursively, as repository-relative paths. */
function filesUnder(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** What a generator is called and what it owns. */
export interface GeneratedFiles {
  /** The command that regenerates them, e.g. `pnpm k8s`. */
  command: string;
  /** Folders the files fill alone; anything else in them is removed when writing. */
  prune?: string | string[];
}

/**
 * A generator's entry point (`pnpm k8s`, `pnpm ops`): `[--check]` read with parseCommand
 * (--help, unknown flags refused), then the files rendered and written or checked (exit 1
 * when stale).
 */
export function runGenerator(files: GeneratedFiles, what: string, render: () => Map<string, string>): void {
  const { values } = parseCommand({
    command: files.command,
    usage: '[--check]',
    help: `${what}\n\n  --check  write nothing; exit 1 naming every stale file`,
    options: { check: { type: 'boolean' } },
  });
  if (!writeOrCheck(render(), files, values.check === true)) process.exit(1);
}

/**
 * Writes `files` (repository-relative path → content), or with `check` compares them with
 * the committed ones, naming every stale file on stderr. Returns false when one is stale.
 */
export function writeOrCheck(files: Map<string, string>, options: GeneratedFiles, check: boolean): boolean {
  if (check) {
    const stale = staleFiles(files);
    if (stale.length) {
      process.stderr.write(`stale: ${stale.join(', ')} (run ${options.command})\n`);
      return false;
    }
    process.stdout.write(`${options.command}: ${files.size} files up to date\n`);
    return true;
  }
  for (const dir of [options.prune ?? []].flat())
    for (const existing of filesUnder(dir)) if (!files.has(existing)) rmSync(join(ROOT, existing));
  for (const [path, content] of files) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), content);
  }
  process.stdout.write(`wrote ${files.size} files: ${[...files.keys()].join(', ')}\n`);
  return true;
}
