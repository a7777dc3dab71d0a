// The fetch itself: one POST with the extra headers on the origin's pool, the body serialized
// once, through the fault proxy too.
import { describe, expect, it, vi } from 'vitest';
import { dataSource, OK_BODY, proxyTo, QUERY, run, startServer } from './harness.ts';

describe('createDataSource: the fetch', () => {
  it('POSTs one JSON body with the extra headers and returns the parsed {data, errors, extensions}', async () => {
    const server = await startServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"data":{"hello":null},"errors":[{"message":"boom","path":["hello"]}],"extensions":{"x":1}}'),
    );
    const source = dataSource({
      url: `${server.url}?v=1`,
      headers: (context) => ({ 'X-Trellis-Identity': `signed:${context.user}` }),
    });
    for (const kind of ['incoming operation', 'health check', 'loading schema'] as const) {
      const response = await run(source, QUERY, { kind, variables: { a: 1 }, context: { user: 'u1' } });
      expect(response).toEqual({
        data: { hello: null },
        errors: [{ message: 'boom', path: ['hello'] }],
        extensions: { x: 1 },
      });
    }
    expect(server.requests).toBe(3);
    expect(server.bodies[0]).toEqual({ query: QUERY, variables: { a: 1 } });
    expect(server.headers[0]?.['content-type']).toBe('application/json');
    expect(server.headers[0]?.['x-trellis-identity']).toBe('signed:u1');
  });

  it('serializes the body once and never goes through fetch()', async () => {
    const server = await startServer();
    const source = dataSource({ url: server.url });
    const stringify = vi.spyOn(JSON, 'stringify');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await run(source, QUERY, { variables: { big: 'x'.repeat(1000) } });
    expect(stringify).toHaveBeenCalledTimes(1);
    expect((stringify.mock.calls[0]?.[0] as { query?: unknown })?.query).toBe(QUERY);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('goes through the fault proxy: latency delays both directions', async () => {
    const server = await startServer();
    const proxy = await proxyTo(server);
    const source = dataSource({ url: proxy.url() });
    await run(source, QUERY); // connect first
    proxy.setMode('latency', { latencyMs: 100 });
    const started = performance.now();
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    proxy.setMode('pass');
    expect(await run(source, QUERY)).toEqual(JSON.parse(OK_BODY));
  });
});
