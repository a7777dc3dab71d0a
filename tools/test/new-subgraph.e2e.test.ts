// `pnpm new:subgraph` end to end, in a throwaway git worktree of the committed HEAD (its
// install is offline: the store is warm). Bad names exit 1 with one line and change nothing;
// `shipping` becomes a subgraph that composes, generates, installs frozen, typechecks, lints
// and passes its own tests (and the workspace's contract tests) against real Postgres.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CommandResult, runCommand } from '../src/process.ts';
import { MEMORY, startCommand } from '../src/runtime.ts';
import { ROOT } from '../src/workspace.ts';

let scratch: string;
let copy: string;

// Plain output (no colours), so assertions read what a terminal would show.
const run = (command: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}) =>
  runCommand(command, args, { cwd: copy, ...options, env: { NO_COLOR: '1', FORCE_COLOR: '0', ...options.env } });
const tool = (name: string) => run(process.execPath, ['--import', 'tsx', 'tools/src/new-subgraph.ts', name]);
const output = (result: CommandResult) => `${result.stdout}\n${result.stderr}`;
const gitStatus = async () => (await run('git', ['status', '--porcelain'])).stdout;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'trellis-new-subgraph-'));
  copy = join(scratch, 'repo');
  const added = await runCommand('git', ['worktree', 'add', '--detach', copy, 'HEAD'], { cwd: ROOT });
  expect(added.code, output(added)).toBe(0);
  const installed = await run('pnpm', ['install', '--offline', '--frozen-lockfile']);
  expect(installed.code, output(installed)).toBe(0);
});

afterAll(async () => {
  if (!scratch) return;
  await runCommand('git', ['worktree', 'remove', '--force', copy], { cwd: ROOT });
  rmSync(scratch, { recursive: true, force: true });
  await runCommand('git', ['worktree', 'prune'], { cwd: ROOT });
});

describe('pnpm new:subgraph', () => {
  it('refuses an existing, reserved or malformed name with one line and exit 1, changing nothing', async () => {
    const cases: [string, RegExp][] = [
      ['products', /"products" already exists/],
      ['gateway', /"gateway" is reserved/],
      ['Bad-Name', /"Bad-Name" is not a valid subgraph name/],
      ['1abc', /"1abc" is not a valid subgraph name/],
    ];
    // Refusals change nothing, so the processes run side by side (the pnpm one too).
    const [results, viaPnpm] = await Promise.all([
      Promise.all(cases.map(([name]) => tool(name))),
      run('pnpm', ['new:subgraph', 'products']),
    ]);
    cases.forEach(([name, message], i) => {
      const result = results[i]!;
      expect(result.code, name).toBe(1);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(/^new:subgraph: [^\n]+\n$/);
      expect(result.stderr, name).toMatch(message);
    });
    // Through the package script as well: pnpm passes the exit code on.
    expect(viaPnpm.code).toBe(1);
    expect(await gitStatus()).toBe('');
  });

  it('creates subgraphs/shipping, linked, migrated, generated, composed and in docker-compose.yml', async () => {
    const result = await run('pnpm', ['new:subgraph', 'shipping'], { timeoutMs: 120_000 });
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toMatch(/kubernetes: ops\/k8s\/base\/shipping\.yaml/);
    const dir = join(copy, 'subgraphs', 'shipping');
    for (const file of [
      'package.json',
      'drizzle.config.ts',
      'migrations/0000_init.sql',
      'migrations/meta/_journal.json',
      'src/schema.graphql',
      'src/db/schema.ts',
      'src/db/seed.ts',
      'src/loaders.ts',
      'src/lists.ts',
      'src/resolvers/query.ts',
      'src/resolvers/shipping.ts',
      'src/service.ts',
      'src/main.ts',
      'src/generated/graphql.ts',
      'test/conformance.int.test.ts',
      'test/shipping.int.test.ts',
      'test/indexes.int.test.ts',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const products = JSON.parse(readFileSync(join(copy, 'subgraphs', 'products', 'package.json'), 'utf8'));
    expect(manifest.name).toBe('@trellis/subgraph-shipping');
    expect(manifest.trellis).toEqual({
      subgraph: 'shipping',
      port: 4006,
      mappers: { Shipping: '../db/schema.ts#ShippingRow' },
    });
    for (const field of ['scripts', 'dependencies', 'devDependencies'])
      expect(manifest[field]).toEqual(products[field]);
    const migration = readFileSync(join(dir, 'migrations', '0000_init.sql'), 'utf8');
    expect(migration).toContain('CREATE SCHEMA "shipping"');
    expect(migration).toContain('"shipping"."shippings" USING btree ("name","id")');
    expect(migration).toContain('"shipping"."shippings" USING btree ("created_at","id")');
    // drizzle-kit's settings as it loads them: only its own schema, its own migration ledger.
    const config = await run(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const { default: c } = await import('./subgraphs/shipping/drizzle.config.ts'); process.stdout.write(JSON.stringify(c));",
    ]);
    expect(config.code, output(config)).toBe(0);
    expect(JSON.parse(config.stdout)).toEqual({
      dialect: 'postgresql',
      schema: './src/db/schema.ts',
      out: './migrations',
      schemaFilter: ['shipping'],
      migrations: { schema: 'shipping_migrations', table: '__migrations_shipping' },
    });
    expect(readFileSync(join(dir, 'src', 'schema.graphql'), 'utf8')).toMatch(
      /shippings\([^)]*filter: ShippingFilter\s+orderBy: ShippingOrder\s*\): ShippingConnection!/,
    );
    expect((await gitStatus()).split('\n').filter(Boolean).sort()).toEqual([
      ' M clients/api.graphql',
      ' M docker-compose.yml',
      ' M docs/schema-changelog.json',
      ' M docs/schema-changelog.md',
      ' M ops/k8s/base/gateway.yaml',
      ' M ops/k8s/base/kustomization.yaml',
      ' M ops/k8s/base/network.yaml',
      ' M ops/k8s/base/supergraph.graphql',
      ' M ops/k8s/components/monitoring/pod-monitors.yaml',
      ' M ops/k8s/components/monitoring/prometheus-rules.yaml',
      ' M ops/postgres/init/10-subgraph-roles.sql',
      ' M ops/prometheus/prometheus.yml',
      ' M ops/prometheus/rules/services.yml',
      ' M pnpm-lock.yaml',
      ' M supergraph.graphql',
      '?? ops/k8s/base/shipping.yaml',
      '?? subgraphs/shipping/',
    ]);
  }, 150_000);

  it('composes: the supergraph routes to the new graph', async () => {
    const composed = await run('pnpm', ['compose']);
    expect(composed.code, output(composed)).toBe(0);
    const supergraph = readFileSync(join(copy, 'supergraph.graphql'), 'utf8');
    expect(supergraph).toContain('@join__graph(name: "shipping", url: "http://127.0.0.1:4006/graphql")');
    expect(supergraph).toMatch(/type Shipping\s+@join__type\(graph: SHIPPING, key: "id"\)/);
  });

  it('has up-to-date resolver types (codegen --check)', async () => {
    const checked = await run(process.execPath, ['--import', 'tsx', 'tools/src/codegen.ts', '--check']);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });

  it('adds a docker-compose service and routes the gateway to it', () => {
    const compose = readFileSync(join(copy, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(
      `  shipping:\n    <<: *service\n    command:\n      [\n${startCommand({ kind: 'subgraph', subgraph: 'shipping' })
        .map((arg) => `        "${arg}",\n`)
        .join('')}      ]\n    mem_limit: ${MEMORY.subgraph.limitMi}m`,
    );
    expect(compose).toContain(`ports: ["\${SHIPPING_HOST_PORT:-4006}:4006"]`);
    const gateway = compose.slice(compose.indexOf('\n  gateway:\n'));
    expect(gateway).toContain('      SUBGRAPH_URL_SHIPPING: http://shipping:4006/graphql\n');
    expect(gateway).toContain('      shipping: { condition: service_healthy }\n');
    const seed = compose.slice(compose.indexOf('\n  seed:\n'), compose.indexOf('\n  accounts:\n'));
    expect(seed).toContain('      shipping: { condition: service_healthy }\n');
    expect(compose).toContain('      DATABASE_URL: postgres://shipping:shipping@postgres:5432/trellis\n');
    expect(readFileSync(join(copy, 'ops', 'postgres', 'init', '10-subgraph-roles.sql'), 'utf8')).toContain(
      'CREATE ROLE "shipping" LOGIN',
    );
    expect(readFileSync(join(copy, 'ops', 'prometheus', 'prometheus.yml'), 'utf8')).toContain('shipping:9464');
    // Watched in compose and Kubernetes alike, with its own PodMonitor and NetworkPolicy.
    expect(readFileSync(join(copy, 'ops', 'prometheus', 'rules', 'services.yml'), 'utf8')).toMatch(
      /up\{job=~"[^"]*\|shipping\|/,
    );
    expect(readFileSync(join(copy, 'ops', 'k8s', 'components', 'monitoring', 'pod-monitors.yaml'), 'utf8')).toContain(
      '  name: shipping\n',
    );
    expect(readFileSync(join(copy, 'ops', 'k8s', 'base', 'shipping.yaml'), 'utf8')).toContain('kind: NetworkPolicy');
  });

  it('installs from the frozen lockfile, typechecks and lints', async () => {
    for (const args of [['install', '--offline', '--frozen-lockfile'], ['typecheck'], ['lint']]) {
      const result = await run('pnpm', args);
      expect(result.code, `pnpm ${args.join(' ')}\n${output(result)}`).toBe(0);
    }
  });

  it("passes its own tests and the workspace's contract tests", async () => {
    const tests = await run(
      'npx',
      [
        'vitest',
        'run',
        'subgraphs/shipping',
        'tools/test/contracts.test.ts',
        'tools/test/compose-file.test.ts',
        'tools/test/k8s.test.ts',
        'tools/test/k8s-monitoring.test.ts',
        'tools/test/k8s-network.test.ts',
        'tools/test/observability-rules.test.ts',
      ],
      {
        env: { DATABASE_URL: inject('databaseUrl') },
        timeoutMs: 120_000,
      },
    );
    expect(tests.code, output(tests)).toBe(0);
    expect(tests.stdout).toMatch(/Test Files\s+9 passed/);
  }, 150_000);
});
