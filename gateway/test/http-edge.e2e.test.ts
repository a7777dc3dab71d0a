// The HTTP edge of every service (@trellis/http): refusals Node or a route used to answer
// with an empty body (431, 405, 408) or the wrong code (404 as BAD_REQUEST) are typed JSON,
// stalled clients are cut off within the configured bounds, and connections are capped.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig } from '../../tools/src/harness.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'), { nodeEnv: 'production' });
});
afterAll(async () => {
  await graph?.stop();
});

const services = () => [
  { name: 'gateway', url: graph.gateway.url },
  ...Object.entries(graph.subgraphs).map(([name, s]) => ({ name, url: s.url.replace(/\/graphql$/, '') })),
];

async function typed(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors[0]?.extensions.code).toBe(code);
  expect(body.errors[0]?.message).toBeTruthy();
}

describe('every service answers refusals with typed JSON', () => {
  it('unknown path → 404 NOT_FOUND', async () => {
    for (const service of services()) await typed(await fetch(`${service.url}/nope`), 404, 'NOT_FOUND');
  });

  it('headers over 16 KB → 431 BAD_REQUEST (Node answered with an empty body)', async () => {
    for (const service of services()) {
      await typed(
        await fetch(`${service.url}/graphql`, { headers: { 'x-filler': 'x'.repeat(20_000) } }),
        431,
        'BAD_REQUEST',
      );
    }
  });

  it('wrong method → 405 with Allow; POST /invoices too', async () => {
    for (const service of services()) {
      const response = await fetch(`${service.url}/graphql`, { method: 'PUT', body: '{}' });
      expect(response.headers.get('allow')).toBe('GET, POST');
      await typed(response, 405, 'BAD_REQUEST');
    }
    const invoices = await fetch(`${graph.subgraphs.orders!.url.replace(/\/graphql$/, '')}/invoices`, {
      method: 'POST',
    });
    expect(invoices.headers.get('allow')).toBe('GET, HEAD');
    await typed(invoices, 405, 'BAD_REQUEST');
  });

  it('body over the limit → 413 BAD_REQUEST', async () => {
    await typed(
      await fetch(`${graph.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"query":"{ __typename }","x":"${'x'.repeat(1_100_000)}"}`,
      }),
      413,
      'BAD_REQUEST',
    );
  });

  it('malformed HTTP → 400 BAD_REQUEST', async () => {
    const { text } = await rawExchange(graph.gateway.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

/** Sends `data` on a raw connection and resolves with what came back once the server closed it, and when. */
function rawExchange(port: number, data: string): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(data));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closedAfterMs: performance.now() - started }));
  });
}

describe('stalled clients and the connection cap', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        connections: { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 1000, maxConnections: 60 },
      }),
    );
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const query = () =>
    fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
      signal: AbortSignal.timeout(2000),
    });

  it('cuts off clients stalled mid-header or mid-body within the bound (408, typed), others unaffected', async () => {
    const stalled = [
      ...Array.from({ length: 20 }, () => rawExchange(gateway.port, 'POST /graphql HTTP/1.1\r\nHost: x\r\n')),
      ...Array.from({ length: 20 }, () =>
        rawExchange(
          gateway.port,
          'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"qu',
        ),
      ),
    ];
    const others = await Promise.all(Array.from({ length: 10 }, query));
    expect(others.map((r) => r.status)).toEqual(Array(10).fill(200));
    const results = await Promise.all(stalled);
    for (const { text, closedAfterMs } of results) {
      // The bound plus Node's check interval (≤ 1 s here) and scheduling slack.
      expect(closedAfterMs).toBeLessThan(1000 + 1000 + 1000);
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  it('refuses connections past the cap and takes them again once below', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < 60; i++) {
      held.push(
        await new Promise<Socket>((resolve) => {
          const socket = connect(gateway.port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => {});
        }),
      );
    }
    // Accepted by the kernel, closed by the server at once: the request fails.
    await expect(query()).rejects.toThrow();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await query()).status).toBe(200);
  });
});
