// Cache hints: the subgraph's Cache-Control merged into the request's policy, the opt-in default.
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { describe, expect, it } from 'vitest';
import { hintlessDefault, type TrellisDataSource } from '../../src/subgraph-fetch/index.ts';
import { dataSource, type Handler, OK_BODY, startServer } from './harness.ts';

describe('createDataSource: cache hints', () => {
  /** Runs one incoming operation and returns the hints the data source merged into its policy. */
  async function hints(source: TrellisDataSource, context: Record<string, unknown> = {}) {
    const merged: unknown[] = [];
    await source.process({
      kind: 'incoming operation',
      request: { query: '{ hello }' },
      context,
      incomingRequestContext: { overallCachePolicy: { restrict: (hint: unknown) => merged.push(hint) } },
    } as unknown as GraphQLDataSourceProcessOptions);
    return merged;
  }
  const withHeader =
    (value: string): Handler =>
    (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': value }).end(OK_BODY);
  const user = { viewer: { userId: '7', scopes: [] } };
  const service = { viewer: { userId: null, scopes: ['cache:invalidate'] } };

  it('merges the subgraph header; no header is uncacheable unless a default is configured', async () => {
    const hinted = await startServer(withHeader('max-age=30, private'));
    expect(await hints(dataSource({ url: hinted.url }))).toEqual([{ maxAge: 30, scope: 'PRIVATE' }]);
    const silent = await startServer();
    expect(await hints(dataSource({ url: silent.url }))).toEqual([{ maxAge: 0 }]);
  });

  it('applies the opt-in default only to responses without Cache-Control, shared only when anonymous', async () => {
    const silent = await startServer();
    const source = dataSource({ url: silent.url, defaultCacheHint: hintlessDefault(45) });
    expect(await hints(source)).toEqual([{ maxAge: 45, scope: 'PUBLIC' }]);
    expect(await hints(source, { viewer: { userId: null, scopes: [] } })).toEqual([{ maxAge: 45, scope: 'PUBLIC' }]);
    // Any identity makes the default per user (and a user-less identity is then never stored).
    expect(await hints(source, user)).toEqual([{ maxAge: 45, scope: 'PRIVATE' }]);
    expect(await hints(source, service)).toEqual([{ maxAge: 45, scope: 'PRIVATE' }]);
    // A subgraph that states a policy keeps it, no-store included.
    const noStore = await startServer(withHeader('no-store'));
    expect(await hints(dataSource({ url: noStore.url, defaultCacheHint: hintlessDefault(45) }))).toEqual([
      { maxAge: 0 },
    ]);
    const short = await startServer(withHeader('max-age=5, public'));
    expect(await hints(dataSource({ url: short.url, defaultCacheHint: hintlessDefault(45) }))).toEqual([{ maxAge: 5 }]);
  });
});
