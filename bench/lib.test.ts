// bench/lib.ts: the processes a benchmark starts land on the CPU they are meant for, also after
// the benchmark pinned itself (bench:cors pins itself to CPU 0 before starting its targets on
// CPU 1; asked again then, canPin() used to answer "no", and every target shared CPU 0 with the
// load generator).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('startPinned', () => {
  it('pins a target to the CPU asked for after the benchmark pinned itself to another', () => {
    const script = `
      import { execFileSync } from 'node:child_process';
      import { canPin, startPinned } from './bench/lib.ts';
      if (!canPin()) {
        console.log('cannot pin');
      } else {
        execFileSync('taskset', ['-apc', '0', String(process.pid)], { stdio: 'ignore' });
        const child = startPinned('sleep 5', { cwd: process.cwd(), cpu: 1 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        console.log(execFileSync('taskset', ['-cp', String(child.pid)]).toString().trim());
        child.stop();
      }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    let taskset = true;
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    } catch {
      taskset = false;
    }
    if (availableParallelism() >= 2 && taskset) expect(out).toMatch(/affinity list: 1$/m);
    else expect(out).toMatch(/cannot pin/);
  }, 30_000);
});
