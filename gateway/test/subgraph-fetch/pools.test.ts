// Connection pools: keep-alive per origin, shared by data sources, destroyed by the last close().
import { describe, expect, it } from 'vitest';
import { closeDataSources } from '../../src/subgraph-fetch/index.ts';
import { dataSource, failure, QUERY, run, startServer, until } from './harness.ts';

describe('createDataSource: connection pools', () => {
  it('keeps connections alive: sequential fetches, even from two data sources on one origin, use one connection', async () => {
    const server = await startServer();
    const a = dataSource({ url: server.url, name: 'a' });
    const b = dataSource({ url: `${server.url}?other`, name: 'b' });
    for (let i = 0; i < 5; i++) {
      await run(a, QUERY);
      await run(b, QUERY);
    }
    expect(server.requests).toBe(10);
    // Not one per fetch. (undici may open a second one when a fetch follows the previous
    // one before its connection is marked free, so at most two.)
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('close() destroys the pool: the subgraph sees the connection end and later fetches fail fast', async () => {
    const server = await startServer();
    const a = dataSource({ url: server.url, name: 'a' });
    const b = dataSource({ url: server.url, name: 'b' });
    await run(a, QUERY);
    await run(b, QUERY);
    expect(server.sockets.size).toBeGreaterThan(0);
    await closeDataSources([a]);
    // b still uses the origin's pool: its keep-alive connections stay.
    await run(b, QUERY);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBeGreaterThan(0);
    await closeDataSources([b]);
    await until(() => server.sockets.size === 0, 1000);
    expect((await failure(run(a, QUERY))).extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });
});
