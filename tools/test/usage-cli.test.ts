// The usage commands' command lines: --help prints the usage and does nothing else, unknown
// flags and bad values are refused with exit 2 and the usage line, a file that is not a
// usage snapshot is named with exit 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

const run = (script: string, args: string[]) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/src/usage', script), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    // No database: nothing may be read or written.
    env: childEnv({ DATABASE_URL: undefined, USAGE_DATABASE_URL: undefined, SCHEMA_USAGE_FILE: undefined }),
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
};

describe('usage commands', () => {
  it('schema:usage: --help, unknown flags, bad values, a foreign file', () => {
    expect(run('cli.ts', ['--help'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^usage: pnpm schema:usage/),
    });
    expect(run('cli.ts', ['--bogus'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('usage: pnpm schema:usage'),
    });
    expect(run('cli.ts', ['Product.name', '--window-days', 'soon'])).toMatchObject({ code: 2 });
    expect(run('cli.ts', [])).toMatchObject({
      code: 2,
      err: expect.stringContaining('give one coordinate or --deprecated'),
    });
    const file = join(mkdtempSync(join(tmpdir(), 'trellis-usage-cli-')), 'usage.json');
    writeFileSync(file, '{"format":"something-else"}');
    expect(run('cli.ts', ['Product.name', '--usage', file])).toMatchObject({
      code: 1,
      err: expect.stringContaining('is not a trellis-usage-snapshot'),
    });
  }, 120_000);

  it('usage:export: --help, unknown flags, and no database to read', () => {
    expect(run('export.ts', ['--help'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^usage: pnpm usage:export/),
    });
    expect(run('export.ts', ['--bogus'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('usage: pnpm usage:export'),
    });
    expect(run('export.ts', [])).toMatchObject({ code: 1, err: expect.stringContaining('set DATABASE_URL') });
  }, 120_000);
});
