// Files the tooling generates from the workspace (`pnpm k8s`, `pnpm ops`): written, or with
// `--check` compared with the committed ones, naming every stale file and exiting 1.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * Writes `files` (repository-relative path → content), or checks them with `--check`.
 * `prune`: folders the files fill alone; anything else in them is removed.
 */
export function writeOrCheck(
  files: Map<string, string> | (() => Map<string, string>),
  options: { command: string; prune?: string | string[]; what: string },
  args: readonly string[] = process.argv.slice(2),
): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      `usage: ${options.command} [--check]\n${options.what}\n  --check  write nothing; exit 1 naming every stale file\n`,
    );
    return;
  }
  const unknown = args.find((arg) => arg !== '--check');
  if (unknown !== undefined) {
    process.stderr.write(`${options.command}: unknown argument ${unknown} (see --help)\n`);
    process.exit(2);
  }
  if (typeof files === 'function') files = files();
  if (args.includes('--check')) {
    const stale = staleFiles(files);
    if (stale.length) {
      process.stderr.write(`stale: ${stale.join(', ')} (run ${options.command})\n`);
      process.exit(1);
    }
    return;
  }
  for (const dir of [options.prune ?? []].flat())
    for (const existing of filesUnder(dir)) if (!files.has(existing)) rmSync(join(ROOT, existing));
  for (const [path, content] of files) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), content);
  }
  process.stdout.write(`wrote ${files.size} files: ${[...files.keys()].join(', ')}\n`);
}
