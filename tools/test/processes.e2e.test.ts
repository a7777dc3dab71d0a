// Services as real processes: the operator interface (flags, env, health, SIGTERM) and
// start-up failures that must be one clear line, not a stack trace or a crash loop.
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '@trellis/db/embedded';
import { ANONYMOUS, createViewerSigner, DEV_AUTH, IDENTITY_HEADER } from '@trellis/identity';
import { createTestDatabase, graphql, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnService, waitForStatus } from '../src/process.ts';
import { ROOT } from '../src/workspace.ts';

const GATEWAY = join(ROOT, 'gateway', 'src', 'main.ts');
const PRODUCTS = join(ROOT, 'subgraphs', 'products', 'src', 'main.ts');

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_proc');
});
afterAll(async () => {
  await database?.drop();
});

describe('pnpm gateway', () => {
  it('serves any supergraph given by --supergraph/--port, is healthy, and exits 0 promptly on SIGTERM', async () => {
    const port = await freePort();
    const gateway = spawnService(
      GATEWAY,
      ['--supergraph', join(ROOT, 'supergraph.graphql'), '--port', String(port)],
      { NODE_ENV: 'production', PORT: '1' },
      ROOT,
    );
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/health`)).toBe(200);
      // No subgraph is running: the gateway still answers JSON {data, errors}.
      const { status, body } = await graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { name } }');
      expect(status).toBe(200);
      expect(body.data).toEqual({ product: null });
      expect(body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|stack/i);
      const started = Date.now();
      gateway.child.kill('SIGTERM');
      const exit = await gateway.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      gateway.killAll();
    }
  });

  it('stops with one line naming a missing supergraph file', async () => {
    const gateway = spawnService(GATEWAY, ['--supergraph', '/nope/supergraph.graphql', '--port', '0'], {}, ROOT);
    expect((await gateway.exited).code).toBe(1);
    expect(gateway.output().trim()).toBe(
      'gateway: Supergraph file /nope/supergraph.graphql does not exist (run `pnpm compose` or pass --supergraph FILE)',
    );
  });

  it('stops with one line naming an invalid supergraph file', async () => {
    const gateway = spawnService(GATEWAY, ['--supergraph', join(ROOT, 'package.json'), '--port', '0'], {}, ROOT);
    expect((await gateway.exited).code).toBe(1);
    const lines = gateway.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^gateway: Supergraph file .*package\.json is not valid GraphQL/);
  });

  it('stops with one line when its port is in use', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const gateway = spawnService(GATEWAY, ['--port', String(port)], {}, ROOT);
      expect((await gateway.exited).code).toBe(1);
      expect(gateway.output().trim()).toBe(
        `gateway: Port ${port} on 127.0.0.1 is already in use (set PORT to a free port)`,
      );
    } finally {
      blocker.close();
    }
  });

  it('stops with one line naming a bad PORT', async () => {
    const gateway = spawnService(GATEWAY, [], { PORT: 'eighty' }, ROOT);
    expect((await gateway.exited).code).toBe(1);
    expect(gateway.output().trim()).toBe('Invalid environment: PORT must be a number (got "eighty")');
  });

  it('stops with one line naming a bad CORS_ORIGINS', async () => {
    const gateway = spawnService(GATEWAY, [], { CORS_ORIGINS: 'http://localhost:5173/app' }, ROOT);
    expect((await gateway.exited).code).toBe(1);
    const output = gateway.output().trim();
    expect(output.split('\n')).toHaveLength(1);
    expect(output).toMatch(
      /^Invalid environment: CORS_ORIGINS "http:\/\/localhost:5173\/app" is not an origin pattern/,
    );
  });
  it('stops with one line naming a bad TRUSTED_PROXIES, SUBGRAPH_MAX_CONCURRENCY_<NAME> or RATE_LIMIT_BY_CLIENT without CLIENT_NAMES', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { TRUSTED_PROXIES: 'loopback, 10.0.0.0/99' },
        /^Invalid environment: TRUSTED_PROXIES must be a comma-separated list/,
      ],
      [{ SUBGRAPH_MAX_CONCURRENCY_PRODUCTS: '0' }, /^Invalid environment: SUBGRAPH_MAX_CONCURRENCY_PRODUCTS /],
      [{ RATE_LIMIT_POINTS: 'lots' }, /^Invalid environment: RATE_LIMIT_POINTS must be a number/],
      [{ RATE_LIMIT_BY_CLIENT: 'on' }, /^Invalid environment: RATE_LIMIT_BY_CLIENT=on needs CLIENT_NAMES/],
    ];
    // Independent processes that each stop at start-up: all at once.
    await Promise.all(
      cases.map(async ([env, message]) => {
        const gateway = spawnService(GATEWAY, [], env, ROOT);
        expect((await gateway.exited).code).toBe(1);
        const output = gateway.output().trim();
        expect(output.split('\n'), output).toHaveLength(1);
        expect(output).toMatch(message);
      }),
    );
  });

  it('stops with one line naming a bad or taken ADMIN_PORT', async () => {
    const bad = spawnService(GATEWAY, ['--port', '0'], { ADMIN_PORT: 'metrics' }, ROOT);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output().trim()).toBe('Invalid environment: ADMIN_PORT must be a number (got "metrics")');
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const taken = spawnService(GATEWAY, ['--port', '0'], { ADMIN_PORT: String(port) }, ROOT);
      expect((await taken.exited).code).toBe(1);
      expect(taken.output().trim()).toBe(
        `gateway: Port ${port} on 127.0.0.1 is already in use (set ADMIN_PORT to a free port)`,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('a subgraph process', () => {
  it('stops with one line naming a malformed DATABASE_URL', async () => {
    const products = spawnService(PRODUCTS, [], { DATABASE_URL: 'not a url', PORT: '0' }, ROOT);
    expect((await products.exited).code).toBe(1);
    expect(products.output().trim()).toBe(
      'Invalid environment: DATABASE_URL must be a postgres:// URL with a host (got "not a url")',
    );
  });

  it('reports not-ready without Postgres, keeps retrying, and becomes ready when it appears', async () => {
    // A port where nothing listens yet; then a TCP proxy to the real server appears there.
    const pgPort = await freePort();
    const target = new URL(database.url);
    const url = new URL(database.url);
    url.host = `127.0.0.1:${pgPort}`;
    const port = await freePort();
    const products = spawnService(PRODUCTS, [], { DATABASE_URL: url.toString(), PORT: String(port) }, ROOT);
    const proxy = createServer((client) => {
      import('node:net').then(({ connect }) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        client.pipe(upstream).pipe(client);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/live`)).toBe(200);
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 5_000, (s) => s === 503)).toBe(503);
      // As the gateway would call it: with a signed (anonymous) identity.
      const identity = { [IDENTITY_HEADER]: await createViewerSigner(DEV_AUTH.subgraphSecret)(ANONYMOUS) };
      const notReady = await graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { id } }', {}, identity);
      expect(notReady.status).toBe(503);
      expect(notReady.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(products.child.exitCode).toBeNull();
      expect(products.output()).toMatch(/database not reachable; retrying/);
      await new Promise<void>((resolve) => proxy.listen(pgPort, '127.0.0.1', resolve));
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 15_000)).toBe(200);
      const ready = await graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { id } }', {}, identity);
      expect(ready.body).toEqual({ data: { product: null } });
      // Not through the gateway: refused.
      const direct = await graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { id } }');
      expect(direct.status).toBe(401);
      expect(direct.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      products.child.kill('SIGTERM');
      await products.exited;
      proxy.close();
    }
  });
  it('loses Postgres after start: reports not ready, then ready again when it returns, without a restart', async () => {
    // Found by the fault suite (Postgres restarted under load): readiness never came back.
    const pgPort = await freePort();
    const target = new URL(database.url);
    const url = new URL(database.url);
    url.host = `127.0.0.1:${pgPort}`;
    const sockets = new Set<import('node:net').Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(pgPort, '127.0.0.1', resolve));
    const port = await freePort();
    const products = spawnService(PRODUCTS, [], { DATABASE_URL: url.toString(), PORT: String(port) }, ROOT);
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 20_000)).toBe(200);
      // The database goes away: listener closed, every open connection cut.
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 10_000, (s) => s === 503)).toBe(503);
      await new Promise<void>((resolve) => proxy.listen(pgPort, '127.0.0.1', resolve));
      expect(await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 10_000)).toBe(200);
      const identity = { [IDENTITY_HEADER]: await createViewerSigner(DEV_AUTH.subgraphSecret)(ANONYMOUS) };
      const answer = await graphql(`http://127.0.0.1:${port}/graphql`, '{ product(id: "1") { id } }', {}, identity);
      expect(answer.body).toEqual({ data: { product: null } });
      expect(products.child.exitCode).toBeNull();
      expect(products.output()).toMatch(/database reachable again; reporting ready/);
    } finally {
      products.child.kill('SIGTERM');
      await products.exited;
      proxy.close();
      for (const socket of sockets) socket.destroy();
    }
  });
});
