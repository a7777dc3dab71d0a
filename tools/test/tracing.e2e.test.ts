// One trace per request across real processes: the gateway, four subgraphs and the orders
// worker run with the telemetry preload and export OTLP/HTTP (JSON) to a receiver this test
// runs. Checks the parent chain gateway fetch span → subgraph server span → SQL span, that
// placeOrder is one trace through orders, its price lookup at products (undici, W3C trace
// context), its SQL, the jobs it enqueues and the worker's run of the confirmation job and
// its webhook delivery, that the access log lines of every service carry the same trace id,
// that every service reports service.version and deployment.environment.name (and honours
// OTEL_RESOURCE_ATTRIBUTES), that a malformed traceparent starts a new trace, and that an
// unreachable or silent OTLP endpoint never slows or fails requests.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@trellis/db';
import { freePort } from '@trellis/db/embedded';
import { createTestDatabase, graphql, TEST_SEED, type TestDatabase } from '@trellis/testing';
import { startWebhookSink, type WebhookSink } from '@trellis/testing/webhook-sink';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeWorkspace } from '../src/compose.ts';
import { tokenFor } from '../src/harness.ts';
import { type ServiceProcess, spawnDeployed, spawnService, waitForStatus } from '../src/process.ts';
import { GATEWAY_COMMAND } from '../src/runtime.ts';
import { loadDefinition, prepareSubgraph } from '../src/subgraphs.ts';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

const GATEWAY = join(ROOT, 'gateway', 'src', 'main.ts');
const RUNNING = ['products', 'reviews', 'inventory', 'orders'];
const WEBHOOK_SECRET = 'test-webhook-secret';

interface ExportedSpan {
  service: string;
  /** The resource's attributes (service.name, service.version, …). */
  resource: Record<string, unknown>;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  links?: { traceId: string; spanId: string }[];
}
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** An OTLP/HTTP JSON receiver (the exporter's default encoding), keeping every span. */
function otlpReceiver(): { server: Server; spans: ExportedSpan[] } {
  const spans: ExportedSpan[] = [];
  const server = createHttp((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: {
            spans: (Omit<ExportedSpan, 'service' | 'resource' | 'attributes'> & {
              attributes?: { key: string; value: Record<string, unknown> }[];
            })[];
          }[];
        }[];
      };
      for (const resource of payload.resourceSpans) {
        const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        const resourceAttributes = Object.fromEntries(
          resource.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]]),
        );
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            const attributes = Object.fromEntries(
              (span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
            );
            spans.push({
              ...span,
              service,
              resource: resourceAttributes,
              attributes,
              ...(span.parentSpanId ? {} : { parentSpanId: undefined }),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans };
}

/** JSON log lines of a process. */
function logLines(process: ServiceProcess): Record<string, unknown>[] {
  return process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const receiver = otlpReceiver();
let database: TestDatabase;
let dir: string;
let supergraphPath: string;
let otlpUrl: string;
const processes: ServiceProcess[] = [];
const subgraphs: Record<string, ServiceProcess> = {};
let gateway: ServiceProcess;
let gatewayUrl: string;
let sink: WebhookSink;

/** Starts a gateway process on the test supergraph; resolves with its /graphql URL once ready. */
/** The gateway from its sources (tsx), or `deployed`: its production command on the bundle (runtime.ts). */
async function startGateway(
  env: Record<string, string>,
  options: { deployed?: boolean } = {},
): Promise<{ process: ServiceProcess; url: string }> {
  const port = await freePort();
  const args = ['--supergraph', supergraphPath, '--port', String(port)];
  const settings = { NODE_ENV: 'test', RESPONSE_CACHE: 'off', ...env };
  const process = options.deployed
    ? spawnDeployed(GATEWAY_COMMAND, args, settings)
    : spawnService(GATEWAY, args, settings, ROOT);
  processes.push(process);
  await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 60_000);
  return { process, url: `http://127.0.0.1:${port}/graphql` };
}

const tracing = (endpoint: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  // The default sampler (parent-based ratio, traces start at requests and jobs) at 100 %.
  OTEL_TRACES_SAMPLER_ARG: '1',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

beforeAll(async () => {
  receiver.server.listen(0, '127.0.0.1');
  await once(receiver.server, 'listening');
  otlpUrl = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}`;
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_trace');
  sink = await startWebhookSink({ secret: WEBHOOK_SECRET });
  const infos = listSubgraphs().filter((s) => RUNNING.includes(s.name));
  const ports: Record<string, number> = {};
  for (const info of infos) ports[info.name] = await freePort();
  // orders reads prices from products and delivers order confirmations to the sink (its worker).
  const ordersEnv = {
    CATALOGUE_URL: `http://127.0.0.1:${ports.products}/graphql`,
    NOTIFY_WEBHOOK_URL: sink.url,
    NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  for (const info of infos) {
    await prepareSubgraph(await loadDefinition(info), database.url, { seed: 'always', plan: TEST_SEED });
    subgraphs[info.name] = spawnService(
      info.mainPath,
      [],
      {
        NODE_ENV: 'test',
        DATABASE_URL: database.url,
        PORT: String(ports[info.name]),
        ...tracing(otlpUrl),
        ...(info.name === 'orders' ? ordersEnv : {}),
        // The standard variable wins over the service's own resource attributes.
        ...(info.name === 'reviews' ? { OTEL_RESOURCE_ATTRIBUTES: 'service.version=9.9.9-test,team=reviews' } : {}),
      },
      ROOT,
    );
    processes.push(subgraphs[info.name] as ServiceProcess);
  }
  const worker = spawnService(
    join(ROOT, 'subgraphs', 'orders', 'src', 'worker.ts'),
    [],
    {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      PORT: '0',
      JOBS_POLL_INTERVAL_MS: '50',
      ...ordersEnv,
      ...tracing(otlpUrl),
    },
    ROOT,
  );
  processes.push(worker);
  subgraphs['orders-worker'] = worker;
  dir = await mkdtemp(join(tmpdir(), 'trellis-trace-'));
  supergraphPath = join(dir, 'supergraph.graphql');
  // Subgraphs not started here get a port nothing listens on.
  await writeFile(
    supergraphPath,
    composeWorkspace((name) => `http://127.0.0.1:${ports[name] ?? 1}/graphql`),
  );
  for (const name of RUNNING) await waitForStatus(`http://127.0.0.1:${ports[name]}/health/ready`, 60_000);
  const started = await startGateway(tracing(otlpUrl));
  gateway = started.process;
  gatewayUrl = started.url;
});

afterAll(async () => {
  for (const process of processes) process.killAll();
  receiver.server.close();
  await sink?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const PRODUCT_PAGE = `query TracedProductPage($id: ID!) {
  product(id: $id) { name inStock reviews(first: 2) { edges { node { rating } } } }
}`;

/** Places an order for one product through the gateway; resolves with the order id. */
async function placeOrder(): Promise<string> {
  const token = await tokenFor(3);
  const response = await graphql(
    gatewayUrl,
    `mutation TracedPlaceOrder($input: PlaceOrderInput!) {
      placeOrder(input: $input) { order { id total } userErrors { code } }
    }`,
    { input: { idempotencyKey: `traced-${randomUUID()}`, lines: [{ productId: '1', quantity: 1 }] } },
    { authorization: `Bearer ${token}` },
  );
  expect(response.body.errors).toBeUndefined();
  const placed = (response.body.data as { placeOrder: { order: { id: string } | null; userErrors: unknown[] } })
    .placeOrder;
  expect(placed.userErrors).toEqual([]);
  return placed.order!.id;
}

describe('tracing across processes', () => {
  it('gives one request one trace: gateway fetch spans parent the subgraph server spans, which parent SQL spans', async () => {
    const response = await graphql(gatewayUrl, PRODUCT_PAGE, { id: '1' });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect((response.body.data as { product: { name: string } }).product.name).toBeTruthy();

    const access = await until('the gateway access line', () =>
      logLines(gateway).find((l) => l.msg === 'request' && l.operation === 'TracedProductPage'),
    );
    const traceId = String(access.trace_id);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const hasSql = (service: string) =>
      inTrace().some((s) => s.service === service && s.attributes['db.system.name'] === 'postgresql');
    // The gateway's server span ends after the response is written, so it may arrive in a
    // later export batch than the subgraphs' spans: wait for it too.
    const hasGatewayRoot = () => inTrace().some((s) => s.service === 'gateway' && !s.parentSpanId);
    await until('spans of every service', () =>
      ['products', 'reviews', 'inventory'].every(hasSql) && hasGatewayRoot() ? true : undefined,
    );
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    // One root: the gateway's HTTP server span. Every other span's parent is in the trace.
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => [s.service, s.kind])).toEqual([['gateway', SERVER]]);
    for (const span of spans) if (span.parentSpanId) expect(byId.has(span.parentSpanId), span.name).toBe(true);

    for (const service of ['products', 'reviews', 'inventory']) {
      const servers = spans.filter((s) => s.service === service && s.kind === SERVER);
      expect(servers.length, service).toBeGreaterThan(0);
      for (const server of servers) {
        const fetch = byId.get(server.parentSpanId ?? '');
        expect(fetch?.service).toBe('gateway');
        expect(fetch?.kind).toBe(CLIENT);
        expect(fetch?.name).toBe(`fetch ${service}`);
      }
      const sql = spans.filter((s) => s.service === service && s.attributes['db.system.name'] === 'postgresql');
      for (const statement of sql) {
        // Up the chain to this service's server span.
        let at: ExportedSpan | undefined = statement;
        while (at && at.kind !== SERVER) at = byId.get(at.parentSpanId ?? '');
        expect(at?.service, statement.name).toBe(service);
        expect(statement.kind).toBe(CLIENT);
        expect(statement.attributes['db.namespace']).toBe(database.name);
        const text = String(statement.attributes['db.query.text']);
        expect(text).toMatch(/^(select|insert|update|delete|with)\b/i);
        expect(text).not.toMatch(/'[^']*'/);
      }
    }
    // The product id arrives as a bound parameter in the products lookup, never as a value.
    const lookup = spans.find((s) => s.service === 'products' && s.attributes['db.system.name'] === 'postgresql');
    expect(String(lookup?.attributes['db.query.text'])).toMatch(/\$1/);

    // The access lines of the gateway and of each subgraph carry the same trace id.
    for (const service of ['products', 'reviews', 'inventory']) {
      const lines = logLines(subgraphs[service] as ServiceProcess).filter(
        (l) => l.msg === 'request' && l.trace_id === traceId,
      );
      expect(lines.length, service).toBeGreaterThan(0);
      expect(lines[0]?.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('gives placeOrder one trace: gateway → orders → its price lookup at products, its SQL, its jobs and their run', async () => {
    const orderId = await placeOrder();

    const access = await until('the gateway access line', () =>
      logLines(gateway).find((l) => l.msg === 'request' && l.operation === 'TracedPlaceOrder'),
    );
    const traceId = String(access.trace_id);
    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const confirmationRun = () =>
      inTrace().find((s) => s.service === 'orders-worker' && s.name === 'order-confirmation process');
    // The worker runs the jobs after the request (its webhook delivery ends the trace), and a
    // parent ends — and is exported — after its children: wait until every parent is in.
    const complete = () => {
      const ids = new Set(inTrace().map((s) => s.spanId));
      return inTrace().every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
    };
    await until(
      'the worker run, the webhook delivery and every parent span in the trace',
      () =>
        confirmationRun() &&
        inTrace().some((s) => s.service === 'orders-worker' && s.kind === CLIENT && s.name.startsWith('POST')) &&
        inTrace().some((s) => s.service === 'gateway' && !s.parentSpanId) &&
        complete()
          ? true
          : undefined,
      30_000,
    );
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const up = (span: ExportedSpan | undefined, test: (s: ExportedSpan) => boolean) => {
      for (let at = span; at; at = byId.get(at.parentSpanId ?? '')) if (test(at)) return at;
      return undefined;
    };

    // One root (the gateway's server span); every other span's parent is in the trace.
    expect(spans.filter((s) => !s.parentSpanId).map((s) => [s.service, s.kind])).toEqual([['gateway', SERVER]]);
    for (const span of spans) if (span.parentSpanId) expect(byId.has(span.parentSpanId), span.name).toBe(true);

    // gateway fetch → orders server span.
    const ordersServer = spans.find((s) => s.service === 'orders' && s.kind === SERVER);
    expect(byId.get(ordersServer?.parentSpanId ?? '')?.name).toBe('fetch orders');

    // orders → products: an undici CLIENT span in orders (W3C context on the wire) parents
    // products' server span, which parents products' SQL.
    const productsServer = spans.find((s) => s.service === 'products' && s.kind === SERVER);
    const priceCall = byId.get(productsServer?.parentSpanId ?? '');
    expect(priceCall?.service).toBe('orders');
    expect(priceCall?.kind).toBe(CLIENT);
    expect(priceCall?.attributes['http.request.method']).toBe('POST');
    expect(up(priceCall, (s) => s === ordersServer)).toBe(ordersServer);
    const productsSql = spans.filter(
      (s) => s.service === 'products' && s.attributes['db.system.name'] === 'postgresql',
    );
    expect(productsSql.length).toBeGreaterThan(0);
    for (const statement of productsSql) expect(up(statement, (s) => s.kind === SERVER)).toBe(productsServer);

    // orders' own SQL (the order and its lines) under its server span.
    const ordersSql = spans.filter((s) => s.service === 'orders' && s.attributes['db.system.name'] === 'postgresql');
    expect(ordersSql.some((s) => s.attributes['db.operation.name'] === 'INSERT')).toBe(true);
    for (const statement of ordersSql) expect(up(statement, (s) => s.kind === SERVER)).toBe(ordersServer);

    // The jobs it enqueues: PRODUCER spans under the request, in orders.
    const publish = spans.find((s) => s.service === 'orders' && s.name === 'order-confirmation publish');
    expect(publish?.kind).toBe(PRODUCER);
    expect(up(publish, (s) => s.kind === SERVER)).toBe(ordersServer);

    // The job's execution: the worker's CONSUMER span continues the trace under the publish
    // span and links to it; its SQL and its webhook delivery (undici) are under it.
    const run = confirmationRun()!;
    expect(run.kind).toBe(CONSUMER);
    expect(run.parentSpanId).toBe(publish!.spanId);
    expect(run.links?.map((l) => [l.traceId, l.spanId])).toEqual([[traceId, publish!.spanId]]);
    const delivery = spans.find((s) => s.service === 'orders-worker' && s.kind === CLIENT && s.name.startsWith('POST'));
    expect(up(delivery, (s) => s === run)).toBe(run);
    // The receiver got the trace context: the delivery's own span is the remote parent.
    const received = sink.deliveries().find((d) => (d.body as { orderId?: string }).orderId === orderId);
    expect(received?.traceparent).toBe(`00-${traceId}-${delivery!.spanId}-01`);
  });

  it('every service reports service.version and deployment.environment.name; OTEL_RESOURCE_ATTRIBUTES wins', async () => {
    // Spans from every service: a product page (products, reviews, inventory) and an order
    // (orders, and its worker's run of the confirmation).
    await graphql(gatewayUrl, PRODUCT_PAGE, { id: '2' });
    await placeOrder();
    const services = ['gateway', 'products', 'reviews', 'inventory', 'orders', 'orders-worker'];
    await until(
      'spans of every service',
      () => (services.every((service) => receiver.spans.some((s) => s.service === service)) ? true : undefined),
      30_000,
    );
    const resources = new Map(receiver.spans.map((s) => [s.service, s.resource]));
    for (const service of ['gateway', 'products', 'inventory', 'orders', 'orders-worker']) {
      expect(resources.get(service)?.['service.version'], service).toBe('0.0.0');
      expect(resources.get(service)?.['deployment.environment.name'], service).toBe('test');
    }
    expect(resources.get('reviews')).toMatchObject({
      'service.version': '9.9.9-test',
      team: 'reviews',
      'deployment.environment.name': 'test',
    });
  });

  it('ignores a malformed traceparent: a new trace, and the request succeeds', async () => {
    for (const traceparent of [
      'not-a-traceparent',
      '00-00000000000000000000000000000000-0000000000000000-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz',
    ]) {
      const response = await graphql(gatewayUrl, '{ product(id: "2") { name } }', undefined, {
        traceparent,
        'x-request-id': `malformed-${traceparent.length}-${traceparent.slice(-2)}`,
      });
      expect(response.status, traceparent).toBe(200);
      expect(response.body.errors, traceparent).toBeUndefined();
      const access = await until('the access line', () =>
        logLines(gateway).find(
          (l) => l.msg === 'request' && l.request_id === `malformed-${traceparent.length}-${traceparent.slice(-2)}`,
        ),
      );
      expect(access.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(access.trace_id).not.toBe('00000000000000000000000000000000');
      expect(access.trace_id).not.toBe('0af7651916cd43dd8448eb211c80319c');
      // A root of its own at the gateway.
      const root = await until('the new root span', () =>
        receiver.spans.find((s) => s.traceId === access.trace_id && s.service === 'gateway' && s.kind === SERVER),
      );
      expect(root.parentSpanId).toBeUndefined();
    }
  });

  it('masks an unexpected error with the trace id, and logs it in full under the same trace_id', async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await sql`alter table products.products rename to products_hidden`;
    try {
      const response = await graphql(gatewayUrl, '{ product(id: "4") { name } }', undefined, {
        'x-request-id': 'masked-error',
      });
      const error = response.body.errors?.[0];
      expect(error?.message).toBe('Internal server error');
      expect(JSON.stringify(response.body)).not.toMatch(/products_hidden|relation/);
      const access = await until('the access line', () =>
        logLines(gateway).find((l) => l.msg === 'request' && l.request_id === 'masked-error'),
      );
      expect(error?.extensions?.traceId).toBe(access.trace_id);
      const logged = await until('the full error in the products log', () =>
        logLines(subgraphs.products as ServiceProcess).find(
          (l) => l.level === 'error' && l.trace_id === access.trace_id,
        ),
      );
      expect(JSON.stringify(logged)).toMatch(/products\.products/);
    } finally {
      await sql`alter table products.products_hidden rename to products`;
      await sql.end();
    }
  });

  it('continues a well-formed incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await graphql(gatewayUrl, '{ product(id: "3") { name } }', undefined, {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(response.status).toBe(200);
    const server = await until('the continued server span', () =>
      receiver.spans.find((s) => s.traceId === traceId && s.service === 'gateway' && s.kind === SERVER),
    );
    expect(server.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('records the client (apollographql-client-name/-version) on the server span and the access line', async () => {
    const client = { 'apollographql-client-name': 'web-storefront', 'apollographql-client-version': '1.4.0' };
    const response = await graphql(gatewayUrl, 'query TracedClient { product(id: "2") { name } }', {}, client);
    expect(response.status).toBe(200);
    const access = await until('the access line', () =>
      logLines(gateway).find((l) => l.msg === 'request' && l.operation === 'TracedClient'),
    );
    expect(access).toMatchObject({ client_name: 'web-storefront', client_version: '1.4.0' });
    const root = await until('the gateway server span', () =>
      receiver.spans.find((s) => s.traceId === access.trace_id && s.service === 'gateway' && !s.parentSpanId),
    );
    expect(root.attributes).toMatchObject({ 'apollo.client.name': 'web-storefront', 'apollo.client.version': '1.4.0' });
    // An invalid name (a tab inside, or 10 KB long) is no name: nothing recorded, request served.
    for (const name of ['web\tstorefront', 'w'.repeat(10_240)]) {
      const bad = await graphql(
        gatewayUrl,
        'query TracedBadClient { product(id: "3") { name } }',
        {},
        {
          'apollographql-client-name': name,
        },
      );
      expect(bad.status).toBe(200);
    }
    const badLines = await until('the access lines', () => {
      const found = logLines(gateway).filter((l) => l.msg === 'request' && l.operation === 'TracedBadClient');
      return found.length === 2 ? found : undefined;
    });
    for (const line of badLines) expect(line).toMatchObject({ client_name: null, client_version: null });
  });
});

describe('shutdown', () => {
  it('exports the spans still queued when the service stops on SIGTERM', async () => {
    // A schedule delay far longer than the test: only the shutdown flush can send them.
    const { process: late, url } = await startGateway({ ...tracing(otlpUrl), OTEL_BSP_SCHEDULE_DELAY: '600000' });
    await graphql(url, '{ product(id: "5") { name } }', undefined, { 'x-request-id': 'flushed-at-exit' });
    const access = await until('the access line', () =>
      logLines(late).find((l) => l.msg === 'request' && l.request_id === 'flushed-at-exit'),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.spans.some((s) => s.traceId === access.trace_id && s.service === 'gateway')).toBe(false);
    late.child.kill('SIGTERM');
    expect((await late.exited).code).toBe(0);
    expect(
      receiver.spans.some((s) => s.traceId === access.trace_id && s.service === 'gateway' && s.kind === SERVER),
    ).toBe(true);
  });
});

// The gateway as deployed (the bundle, its telemetry preload, ops/start.sh's memory settings).
describe('an unreachable OTLP endpoint, on the production command', () => {
  /** 40 requests in sequence; each must succeed, none may wait on the exporter. */
  async function expectFastAndFine(url: string): Promise<void> {
    const durations: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      const response = await graphql(url, PRODUCT_PAGE, { id: String((i % 20) + 1) });
      durations.push(performance.now() - started);
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
    }
    durations.sort((a, b) => a - b);
    // Generous for a shared 2-core machine; an exporter on the request path would take the
    // export timeout (1 s) or hang.
    expect(durations[Math.floor(durations.length * 0.9)]).toBeLessThan(500);
  }

  async function droppedSpans(url: string): Promise<number> {
    const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
    return [...text.matchAll(/^trellis_otel_dropped_spans_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  }

  const bounded = (endpoint: string) => ({
    ...tracing(endpoint),
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_BSP_EXPORT_TIMEOUT: '1000',
    OTEL_BSP_MAX_QUEUE_SIZE: '64',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '32',
  });

  /** Polls the gateway's dropped-span counter until it passes `before` (start-up spans may count already). */
  async function expectDropped(url: string, before: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    let dropped = before;
    while (Date.now() < deadline && dropped <= before) {
      dropped = await droppedSpans(url);
      if (dropped <= before) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // At least the request spans beyond one queue's worth were never exported.
    expect(dropped - before).toBeGreaterThan(64);
  }

  it('a closed port: requests stay fast and succeed; failed exports count as dropped spans', async () => {
    const closed = await freePort();
    const { url } = await startGateway(bounded(`http://127.0.0.1:${closed}`), { deployed: true });
    const before = await droppedSpans(url);
    await expectFastAndFine(url);
    await expectDropped(url, before);
  });

  it('a black hole (accepts, never answers): requests stay fast and succeed; the bounded queue drops', async () => {
    const sockets = new Set<Socket>();
    const hole = createTcp((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.resume();
    });
    hole.listen(0, '127.0.0.1');
    await once(hole, 'listening');
    try {
      const port = (hole.address() as { port: number }).port;
      const { url } = await startGateway(bounded(`http://127.0.0.1:${port}`), { deployed: true });
      const before = await droppedSpans(url);
      await expectFastAndFine(url);
      await expectDropped(url, before);
    } finally {
      for (const socket of sockets) socket.destroy();
      hole.close();
    }
  });
});
