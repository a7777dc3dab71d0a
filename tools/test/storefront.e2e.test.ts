// The reference storefront in a real browser (Debian's Chromium via @trellis/testing/browser),
// built for production and served from its own origin, against the real graph in trusted-
// documents mode (only its manifest runs) with the orders worker as a real process:
// browse and paginate, a product page, sign in, a double-clicked order placed once, its
// invoice becoming READY with a working PDF link, a gateway restart the open page survives
// without a reload, SUBGRAPH_UNAVAILABLE rendered as partial data and QUERY_TOO_COMPLEX as
// an error. Each flow leaves a screenshot in .run/browser/storefront-*.png.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type Limits, startGateway } from '@trellis/gateway';
import { type BrowserFlow, type PageServer, serveDirectory, withBrowser } from '@trellis/testing/browser';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  type GraphWorker,
  startGraph,
  startGraphWorker,
  type TestGraph,
  testGatewayConfig,
  tokenFor,
} from '../src/harness.ts';
import { buildStorefront, STOREFRONT_MANIFEST } from '../src/storefront.ts';

type Page = BrowserFlow['page'];

const FLOW = { timeoutMs: 45_000 };
let graph: TestGraph;
let worker: GraphWorker;
let site: PageServer;
let dist: string;

beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'), { nodeEnv: 'production', trustedDocuments: STOREFRONT_MANIFEST });
  // placeOrder prices from this graph's products subgraph; invoice links point at its orders service.
  vi.stubEnv('CATALOGUE_URL', graph.subgraphs.products!.url);
  vi.stubEnv('INVOICE_BASE_URL', new URL(graph.subgraphs.orders!.url).origin);
  dist = await mkdtemp(join(tmpdir(), 'trellis-storefront-'));
  [worker] = await Promise.all([
    startGraphWorker(graph, 'orders', { pollIntervalMs: 200 }),
    buildStorefront(graph.url, dist),
  ]);
  // Its own origin: another host name than the gateway's 127.0.0.1.
  site = await serveDirectory(dist, 'localhost');
}, 180_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await site?.close();
  await worker?.stop();
  await graph?.stop();
  if (dist) await rm(dist, { recursive: true, force: true });
});

/** What the page sent to the gateway: each body and the client-identity headers. */
function recordRequests(page: Page, gatewayUrl: string) {
  const sent: { body: Record<string, unknown>; client: string | undefined; version: string | undefined }[] = [];
  page.on('request', (request) => {
    if (request.url() !== gatewayUrl || request.method() !== 'POST') return;
    const headers = request.headers();
    sent.push({
      body: JSON.parse(request.postData() ?? '{}'),
      client: headers['apollographql-client-name'],
      version: headers['apollographql-client-version'],
    });
  });
  return sent;
}

/** Stops the gateway; the function returned starts it again on the same port (with `limits`). */
async function stopGateway(): Promise<(limits?: Partial<Limits>) => Promise<void>> {
  const port = Number(new URL(graph.url).port);
  await graph.gateway.stop();
  return async (limits = {}) => {
    const restarted = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        port,
        nodeEnv: 'production',
        trustedDocuments: STOREFRONT_MANIFEST,
        limits: { ...DEFAULT_LIMITS, ...limits },
      }),
    );
    // graph.stop() stops the gateway that runs now.
    graph.gateway.stop = () => restarted.stop();
  };
}

const cardNames = (page: Page) => page.locator('.product-card a').allTextContents();

/** Waits until the first product card's name is (`===`) or is no longer (`!==`) `name`. */
const firstCard = (page: Page, op: '===' | '!==', name: string, timeout?: number) =>
  page.waitForFunction(
    `document.querySelector('.product-card a')?.textContent ${op} ${JSON.stringify(name)}`,
    undefined,
    timeout ? { timeout } : {},
  );

describe('storefront in a browser, on its own origin', () => {
  it('browses the catalogue and pages forward and back (Relay cursors), sending persisted ids only', async () => {
    await withBrowser(
      'storefront-catalogue',
      async ({ page, errors }) => {
        const sent = recordRequests(page, graph.url);
        await page.goto(`${site.origin}/`);
        await page.locator('.product-card').nth(11).waitFor();
        const first = await cardNames(page);
        expect(first).toHaveLength(12);
        expect(await page.locator('#previous').isDisabled()).toBe(true);

        await page.click('#next');
        await page.waitForURL(/#\/\?after=/);
        await firstCard(page, '!==', first[0]!);
        const second = await cardNames(page);
        expect(second).toHaveLength(12);
        expect(second.filter((name) => first.includes(name))).toEqual([]);

        await page.click('#previous');
        await page.waitForURL(/#\/\?before=/);
        await firstCard(page, '===', first[0]!);
        expect(await cardNames(page)).toEqual(first);

        // Production build: ids from the manifest, never the text; the client names itself.
        expect(sent.length).toBeGreaterThanOrEqual(3);
        for (const { body, client, version } of sent) {
          expect(body.query).toBeUndefined();
          expect((body.extensions as any).persistedQuery.sha256Hash).toMatch(/^[0-9a-f]{64}$/);
          expect(client).toBe('trellis-storefront');
          expect(version).toMatch(/^\d+\.\d+\.\d+$/);
        }
        expect(errors).toEqual([]);
      },
      FLOW,
    );
  });

  it('shows a product page with stock, rating and reviews', async () => {
    await withBrowser(
      'storefront-product',
      async ({ page }) => {
        await page.goto(`${site.origin}/#/product/1`);
        await page.locator('section.product h1').waitFor();
        const expected = await graph.subgraphs.products!.running.database
          .sql`select name from products.products where id = 1`;
        expect(await page.locator('section.product h1').textContent()).toBe(expected[0]!.name);
        expect(await page.locator('.stock').textContent()).toMatch(
          /in stock, shipping (free|\$\d+\.\d\d)$|out of stock/,
        );
        expect(await page.locator('.rating').textContent()).toMatch(/\(\d+ reviews\)/);
        expect(await page.locator('.review').count()).toBeGreaterThan(0);
        expect(await page.locator('.errors').count()).toBe(0);
      },
      FLOW,
    );
  });

  it('signs in with a development token, places one order on a double click, and shows its invoice PDF', async () => {
    const buyer = 7;
    const orders = graph.subgraphs.orders!.running.database;
    const count = async () =>
      Number((await orders.sql`select count(*)::int as n from orders.orders where buyer_id = ${buyer}`)[0]!.n);
    const before = await count();
    const link = await withBrowser(
      'storefront-order',
      async ({ page }) => {
        await page.goto(`${site.origin}/#/sign-in`);
        // A token the gateway refuses: the error is rendered by its code, and nobody is signed in.
        await page.fill('#token', 'not-a-token');
        await page.click('#sign-in');
        await page.locator('.sign-in-result [data-code="UNAUTHENTICATED"]').waitFor();
        expect(await page.locator('#account-link').textContent()).toBe('Sign in');
        await page.fill('#token', await tokenFor(buyer));
        await page.click('#sign-in');
        await page.locator('.signed-in').waitFor();
        expect(await page.locator('#account-name').textContent()).toBeTruthy();

        await page.goto(`${site.origin}/#/product/2`);
        await page.dblclick('#place-order');
        await page.waitForURL(/#\/order\/\d+$/);
        await page.locator('.invoice[data-status="READY"]').waitFor({ timeout: 20_000 });
        expect(await page.locator('.order .status').textContent()).toMatch(/^[A-Z]+$/);
        return page.locator('.invoice-pdf').getAttribute('href');
      },
      FLOW,
    );
    expect(await count()).toBe(before + 1);
    const pdf = await fetch(link!);
    expect(pdf.status).toBe(200);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-');
  });

  it('recovers without a reload when the gateway restarts while the page is open', async () => {
    await withBrowser(
      'storefront-gateway-restart',
      async ({ page }) => {
        await page.goto(`${site.origin}/`);
        await page.locator('.product-card').first().waitFor();
        const first = (await cardNames(page))[0];
        await page.evaluate(() => {
          (globalThis as any).__sameDocument = true;
        });

        const start = await stopGateway();
        await page.click('#next');
        await page.locator('#connection:not([hidden])').waitFor();
        expect(await page.locator('#connection').textContent()).toMatch(/Reconnecting/);
        await start();

        await firstCard(page, '!==', first!, 20_000);
        expect(await page.locator('#connection').isHidden()).toBe(true);
        expect(await page.locator('.product-card').count()).toBe(12);
        expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
      },
      FLOW,
    );
  });

  it('renders SUBGRAPH_UNAVAILABLE as partial data: the product without its stock', async () => {
    await graph.subgraphs.inventory!.running.stop();
    await withBrowser(
      'storefront-subgraph-unavailable',
      async ({ page }) => {
        await page.goto(`${site.origin}/#/product/3`);
        await page.locator('.errors [data-code="SUBGRAPH_UNAVAILABLE"]').waitFor();
        expect(await page.locator('section.product h1').textContent()).toBeTruthy();
        expect(await page.locator('.stock').textContent()).toBe('stock unavailable right now');
        expect(await page.locator('.price').textContent()).toMatch(/^\$/);
      },
      FLOW,
    );
  });

  it('renders QUERY_TOO_COMPLEX from a gateway with tighter limits', async () => {
    await (await stopGateway())({ maxCost: 5 });
    await withBrowser(
      'storefront-query-too-complex',
      async ({ page }) => {
        await page.goto(`${site.origin}/`);
        await page.locator('.errors [data-code="QUERY_TOO_COMPLEX"]').waitFor();
        expect(await page.locator('.errors').textContent()).toMatch(/too much at once/);
        expect(await page.locator('.product-card').count()).toBe(0);
      },
      FLOW,
    );
  });
});
