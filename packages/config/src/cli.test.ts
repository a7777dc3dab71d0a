// The shared command-line pieces in process: main-module detection through symlinks and
// spaces, and the confirmation before destructive steps. (parseCommand exits the process:
// tools/test/tool-arguments.e2e.test.ts runs it through the real tools.)
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { confirm, isMainModule } from './cli.ts';

describe('isMainModule', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'trellis cli '));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const real = join(scratch, 'real dir', 'tool.ts');
  mkdirSync(join(scratch, 'real dir'));
  writeFileSync(real, '');
  symlinkSync(join(scratch, 'real dir'), join(scratch, 'linked dir'));
  // What Node gives a module as import.meta.url: its real path, percent-encoded.
  const moduleUrl = pathToFileURL(real).href;

  it('recognises the entry point by a path with spaces (percent-encoded in the URL)', () => {
    expect(moduleUrl).toContain('%20');
    expect(isMainModule(moduleUrl, real)).toBe(true);
    // The comparison it replaces got this wrong: the tool did nothing and exited 0.
    expect(moduleUrl === `file://${real}`).toBe(false);
  });

  it('recognises it through a symlink', () => {
    expect(isMainModule(moduleUrl, join(scratch, 'linked dir', 'tool.ts'))).toBe(true);
  });

  it('is false for another module, a missing file or no entry (a REPL, vitest)', () => {
    writeFileSync(join(scratch, 'real dir', 'other.ts'), '');
    expect(isMainModule(moduleUrl, join(scratch, 'real dir', 'other.ts'))).toBe(false);
    expect(isMainModule(moduleUrl, join(scratch, 'missing.ts'))).toBe(false);
    expect(isMainModule(moduleUrl, undefined)).toBe(false);
  });
});

describe('confirm', () => {
  /** A terminal-like input that answers `answer` (or ends without one). */
  function terminal(answer: string | null): PassThrough & { isTTY: boolean } {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    setImmediate(() => (answer === null ? input.end() : input.write(answer)));
    return input;
  }
  const output = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk) => (text += chunk));
    return Object.assign(stream, { text: () => text });
  };

  it('goes ahead with --yes without asking', async () => {
    const out = output();
    expect(await confirm('Replace?', { yes: true, input: terminal(null), output: out })).toBe(true);
    expect(out.text()).toBe('');
  });

  it('refuses without a terminal to ask on (a pipe, CI), asking nothing', async () => {
    const out = output();
    const pipe = Object.assign(new PassThrough(), { isTTY: false });
    expect(await confirm('Replace?', { yes: false, input: pipe, output: out })).toBe(false);
    expect(out.text()).toBe('');
  });

  it('asks on a terminal: yes is y or yes, anything else or no answer is no', async () => {
    for (const [answer, expected] of [
      ['y\n', true],
      ['YES\n', true],
      ['n\n', false],
      ['\n', false],
      ['sure\n', false],
      [null, false],
    ] as const) {
      const out = output();
      expect(
        await confirm('Replace every subgraph?', { yes: false, input: terminal(answer), output: out }),
        String(answer),
      ).toBe(expected);
      expect(out.text()).toBe('Replace every subgraph? [y/N] ');
    }
  });
});
