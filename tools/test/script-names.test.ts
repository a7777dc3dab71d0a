// No package.json script in the workspace may be named like a pnpm command: `pnpm <name>`
// then runs pnpm's command, not the script (`pnpm token` answered ERR_PNPM_NOT_IMPLEMENTED
// with pnpm 12 — it means npm's token command). The reserved names come from the pinned
// pnpm itself: every command and alias its `pnpm help` lists. The workspace's projects come
// from pnpm too (`pnpm -r ls`), so a new package is checked without registering it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../src/workspace.ts';

/**
 * Built-ins that run the script of their own name when there is one, so a script may take
 * it (each checked below to still be described that way by `pnpm help`):
 * `test`, `start`, `stop`, `restart` run the script; a `clean` or `purge` script overrides
 * the built-in.
 */
const RUN_THE_SCRIPT: Record<string, RegExp> = {
  test: /Runs a package's "test" script/,
  start: /start property of its scripts/,
  stop: /Runs a package's "stop" script/,
  restart: /Runs "stop", "restart", and "start" scripts/,
  clean: /A `clean` script in `package.json` overrides the built-in command/,
  purge: /a `purge` script \(not a `clean` script\) overrides it/,
};

const pnpm = (...args: string[]) => execFileSync('pnpm', args, { cwd: ROOT, encoding: 'utf8' });

/** Commands of `pnpm help`: name → description (aliases map to their command's description). */
function pnpmCommands(): Map<string, string> {
  const commands = new Map<string, string>();
  const help = pnpm('help');
  const section = help.slice(help.indexOf('Commands:'), help.indexOf('Options:'));
  for (const line of section.split('\n')) {
    const match = /^ {2}([a-z][a-z-]*)\s{2,}(.*)$/.exec(line);
    if (!match) continue;
    const [, name, description] = match as unknown as [string, string, string];
    commands.set(name, description);
    const aliases = /\[alias(?:es)?: ([^\]]+)\]/.exec(description)?.[1];
    for (const alias of aliases?.split(',') ?? []) commands.set(alias.trim(), description);
  }
  return commands;
}

describe('script names', () => {
  const commands = pnpmCommands();

  it('reads pnpm 12 (the pinned version) and its command list', () => {
    const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string })
      .packageManager;
    expect(`pnpm@${pnpm('--version').trim()}`).toBe(pinned);
    // Enough commands that a parsing slip would show, and the one that bit us.
    expect(commands.size).toBeGreaterThan(80);
    expect(commands.get('token')).toMatch(/Not implemented in pnpm/);
    for (const [name, description] of Object.entries(RUN_THE_SCRIPT)) expect(commands.get(name)).toMatch(description);
  });

  it('no workspace script is shadowed by a pnpm command', () => {
    const projects = JSON.parse(pnpm('-r', 'ls', '--depth', '-1', '--json')) as { path: string }[];
    expect(projects.map((p) => p.path)).toContain(ROOT);
    const shadowed: string[] = [];
    for (const { path } of projects) {
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as {
        name?: string;
        scripts?: Record<string, string>;
      };
      for (const script of Object.keys(manifest.scripts ?? {}))
        if (commands.has(script) && !(script in RUN_THE_SCRIPT))
          shadowed.push(`${manifest.name ?? path}: "${script}" is pnpm's ${script} (${commands.get(script)})`);
    }
    expect(shadowed).toEqual([]);
  });
});
