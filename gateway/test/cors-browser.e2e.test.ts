// CORS in a real browser (Chromium): a page on an allowed origin reads the gateway's answer
// and its exposed headers; the same page on a disallowed origin is blocked by the browser —
// its preflight is refused and the query itself never reaches the gateway.
import { type PageServer, servePages, withBrowser } from '@trellis/testing/browser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';

/** A page that POSTs one query to the gateway and writes what it got into #result. */
const page = (endpoint: string, operation: string) => `<!doctype html>
<title>cors</title>
<pre id="result">pending</pre>
<script>
  fetch(${JSON.stringify(endpoint)}, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollographql-client-name': 'cors-test' },
    body: JSON.stringify({ query: 'query ${operation} { products(first: 2) { edges { node { name } } } }' }),
  })
    .then(async (response) => ({
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      cache: response.headers.get('x-cache'),
      body: await response.json(),
    }))
    .catch((error) => ({ error: error.name + ': ' + error.message }))
    .then((outcome) => { document.getElementById('result').textContent = JSON.stringify(outcome); });
</script>`;

describe('CORS in a browser', () => {
  let graph: TestGraph;
  let allowed: PageServer;
  let disallowed: PageServer;
  const tag = `b${Date.now()}`;
  beforeAll(async () => {
    // Two loopback origins: only the first is listed. Pages are read per request, so they
    // can name the gateway once it runs.
    const allowedPages: Record<string, string> = {};
    allowed = await servePages(allowedPages, 'localhost');
    graph = await startGraph(inject('databaseUrl'), {
      responseCache: { enabled: true, timeoutMs: 50 },
      gateway: { cors: { origins: [allowed.origin] } },
    });
    allowedPages['/'] = page(graph.url, `Allowed_${tag}`);
    disallowed = await servePages({ '/': page(graph.url, `Blocked_${tag}`) }, '127.0.0.1');
  });
  afterAll(async () => {
    await allowed?.close();
    await disallowed?.close();
    await graph?.stop();
  });

  const requests = async (operation: string) => {
    const metric = await graph.gateway.registry.getSingleMetric('trellis_graphql_requests_total')?.get();
    return (metric?.values ?? []).filter((v) => v.labels.operation === operation).reduce((n, v) => n + v.value, 0);
  };
  const outcome = (origin: string, name: string) =>
    withBrowser(name, async ({ page: tab, blocked }) => {
      await tab.goto(`${origin}/`);
      await tab.locator('#result:not(:text-is("pending"))').waitFor();
      expect(blocked).toEqual([]);
      return JSON.parse((await tab.textContent('#result')) ?? '{}') as Record<string, unknown>;
    });

  it('an allowed origin reads the answer and the exposed headers', async () => {
    const result = await outcome(allowed.origin, 'cors-allowed-origin');
    expect(result.status).toBe(200);
    expect(result.requestId).toMatch(/^[\w-]{8,}$/);
    expect(result.cache).toBe('MISS');
    expect((result.body as { data: { products: { edges: unknown[] } } }).data.products.edges).toHaveLength(2);
    expect(await requests(`Allowed_${tag}`)).toBe(1);
  });

  it('a disallowed origin is blocked by the browser and its query never runs', async () => {
    const result = await outcome(disallowed.origin, 'cors-disallowed-origin');
    expect(result).toEqual({ error: 'TypeError: Failed to fetch' });
    expect(await requests(`Blocked_${tag}`)).toBe(0);
  });
});
