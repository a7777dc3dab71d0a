// `pnpm dev` on a machine with only Node: embedded Postgres, migrate, seed, every service,
// then a clean stop on SIGTERM that leaves no process and no Postgres behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@trellis/db/embedded';
import { graphql } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { tokenFor } from '../src/harness.ts';
import { portAcceptsConnections, spawnService } from '../src/process.ts';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

describe('pnpm dev', () => {
  it('runs the whole graph on an embedded Postgres and stops everything on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'trellis-dev-test-'));
    const pgPort = await freePort();
    // Far from the defaults so a developer's running graph does not collide, and below the
    // kernel's ephemeral range (32768+), where other tests' sockets take ports at random
    // (an offset up to 40,000 once landed reviews on a port a parallel test held).
    const offset = 12_000 + Math.floor(Math.random() * 15_000);
    const dev = spawnService(
      join(ROOT, 'tools', 'src', 'dev.ts'),
      [],
      {
        DATABASE_URL: '',
        TRELLIS_DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(pgPort),
        DEV_PORT_OFFSET: String(offset),
        LOG_LEVEL: 'warn',
      },
      ROOT,
    );
    const ports = [
      4000,
      4199, // webhook sink
      5173, // storefront (Vite)
      ...listSubgraphs().flatMap((s) => [s.port, ...(s.worker ? [s.worker.port] : [])]),
    ].map((p) => p + offset);
    try {
      const deadline = Date.now() + 90_000;
      while (!dev.output().includes('graph ready') && Date.now() < deadline && dev.child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!dev.output().includes('graph ready')) console.error(dev.output());
      expect(dev.output()).toContain(`graph ready: http://localhost:${4000 + offset}/graphql`);
      expect(dev.output()).toMatch(/reviews: migrated, seeded \(scale 1\)/);

      const { body } = await graphql(
        `http://127.0.0.1:${4000 + offset}/graphql`,
        '{ products(first: 3) { totalCount edges { node { id reviewCount inStock } } } }',
      );
      expect(body.errors).toBeUndefined();
      expect((body.data as any).products.totalCount).toBe(2000);
      expect((body.data as any).products.edges).toHaveLength(3);

      // An order placed through the gateway reaches the development webhook sink through the
      // orders worker (prices from the products subgraph).
      const token = await tokenFor(1);
      const placed = await graphql(
        `http://127.0.0.1:${4000 + offset}/graphql`,
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id total } userErrors { code } } }',
        { input: { idempotencyKey: `dev-test-${offset}`, lines: [{ productId: '1', quantity: 2 }] } },
        { authorization: `Bearer ${token}` },
      );
      expect(placed.body.errors).toBeUndefined();
      const orderId = (placed.body.data as any).placeOrder.order.id;
      type Delivery = { idempotencyKey: string; body: { total: number } };
      let delivered: Delivery | undefined;
      for (let i = 0; i < 100 && !delivered; i++) {
        const response = await fetch(`http://127.0.0.1:${4199 + offset}/deliveries`);
        const { deliveries } = (await response.json()) as { deliveries: Delivery[] };
        delivered = deliveries.find((d) => d.idempotencyKey === `order-placed:${orderId}`);
        if (!delivered) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!delivered) console.error(dev.output());
      expect(delivered?.body.total).toBe((placed.body.data as any).placeOrder.order.total);

      // Its invoice link follows the port offset (it pointed at the default 4005).
      let url: string | null = null;
      for (let i = 0; i < 100 && !url; i++) {
        const read = await graphql<{ order: { invoice: { url: string | null } | null } }>(
          `http://127.0.0.1:${4000 + offset}/graphql`,
          'query($id: ID!) { order(id: $id) { invoice { url } } }',
          { id: orderId },
          { authorization: `Bearer ${token}` },
        );
        url = read.body.data?.order.invoice?.url ?? null;
        if (!url) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(url).toMatch(
        new RegExp(
          `^http://localhost:${(listSubgraphs().find((s) => s.name === 'orders')?.port ?? 0) + offset}/invoices\\?`,
        ),
      );
      expect((await fetch(url as string)).headers.get('content-type')).toBe('application/pdf');

      // The storefront on its own origin, pointed at this gateway.
      expect(dev.output()).toContain(`storefront: http://localhost:${5173 + offset}/`);
      const storefront = await fetch(`http://127.0.0.1:${5173 + offset}/`);
      expect(await storefront.text()).toContain('<title>Trellis storefront</title>');
      const config = await fetch(`http://127.0.0.1:${5173 + offset}/src/config.ts`);
      expect(await config.text()).toContain(`http://localhost:${4000 + offset}/graphql`);

      // Explorer page in development.
      const page = await fetch(`http://127.0.0.1:${4000 + offset}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);

      dev.child.kill('SIGTERM');
      const exit = await dev.exited;
      expect(exit.code).toBe(0);
      expect(dev.output()).toContain('[dev] stopped');
      for (const port of [...ports, pgPort]) expect(await portAcceptsConnections(port)).toBe(false);
    } finally {
      dev.killAll();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
