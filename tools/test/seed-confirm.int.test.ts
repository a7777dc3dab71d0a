// `pnpm db:seed` replaces every subgraph's data, so it asks first: `--help` touches nothing,
// without --yes and without a terminal it refuses (exit 2) and changes nothing, on a terminal
// "no" changes nothing, `--if-empty` keeps data, and `--yes` replaces it. Real processes on
// a database of their own.
import { spawn } from 'node:child_process';
import { postgres } from '@trellis/db';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { childEnv, runCommand } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

const SCALE = ['--scale', '0.005'];
const TOUCHED = 'touched by seed-confirm.int.test.ts';
let database: TestDatabase;
let sql: postgres.Sql;

const seed = (args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', 'tools/src/seed.ts', ...args], {
    cwd: ROOT,
    env: { DATABASE_URL: database.url, NO_COLOR: '1' },
    timeoutMs: 120_000,
  });

/** Product 1's name: the seed writes it, the test changes it, only a real seed puts it back. */
const productName = async () => (await sql`select name from products.products where id = 1`)[0]?.name as string;

/** Runs the seed on a pseudo-terminal (util-linux `script`), typing `answer`. */
function seedOnTerminal(answer: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, '--import', 'tsx', 'tools/src/seed.ts', ...SCALE].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: childEnv({ DATABASE_URL: database.url, NO_COLOR: '1' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      // Answer once asked, as a person would.
      if (output.includes('[y/N]') && child.stdin.writable) child.stdin.end(answer);
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_seed_confirm');
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const seeded = await seed([...SCALE, '--yes']);
  expect(seeded.code, seeded.stderr).toBe(0);
  expect(seeded.stdout).toMatch(/seeded products in \d+ ms/);
  await sql`update products.products set name = ${TOUCHED} where id = 1`;
}, 180_000);

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe('pnpm db:seed', () => {
  it('--help prints the usage and leaves the data untouched (through pnpm, as typed)', async () => {
    const help = await runCommand('pnpm', ['--silent', 'db:seed', '--help'], {
      cwd: ROOT,
      env: { DATABASE_URL: database.url, npm_config_verify_deps_before_run: 'false' },
      timeoutMs: 60_000,
    });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: pnpm db:seed \[--scale N\] \[--if-empty\] \[--yes\]\n/);
    expect(await productName()).toBe(TOUCHED);
  });

  it('refuses without --yes and without a terminal, exit 2, changing nothing', async () => {
    const refused = await seed(SCALE);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^pnpm db:seed: .*pass --yes to confirm\nusage: pnpm db:seed /);
    expect(await productName()).toBe(TOUCHED);
  });

  it('asks on a terminal: "n" changes nothing (exit 1)', async () => {
    const declined = await seedOnTerminal('n\n');
    expect(declined.output).toContain("Replace every subgraph's data with the seed? [y/N]");
    expect(declined.code, declined.output).toBe(1);
    expect(declined.output).toContain('not confirmed; nothing changed');
    expect(await productName()).toBe(TOUCHED);
  });

  it('--if-empty keeps subgraphs that hold data, without asking', async () => {
    const kept = await seed([...SCALE, '--if-empty']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('products has data; kept');
    expect(await productName()).toBe(TOUCHED);
  });

  it('--yes replaces the data (so the checks above would see a replacement)', async () => {
    const replaced = await seed([...SCALE, '--yes']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await productName()).not.toBe(TOUCHED);
  });
});
