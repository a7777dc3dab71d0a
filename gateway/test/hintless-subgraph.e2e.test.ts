// A subgraph that sends no Cache-Control (products, behind a proxy that strips the header):
// uncacheable by default; with the opt-in SUBGRAPH_DEFAULT_MAX_AGE its answers are cached,
// shared only between anonymous requests and per user otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

let graph: TestGraph;
let proxy: Server;
let plain: RunningGateway;
let withDefault: RunningGateway;
let proxied = 0;

beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  const target = graph.subgraphs.products!.url;
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      proxied++;
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)),
      ) as Record<string, string>;
      const answer = await fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) });
      // Everything but the cache policy.
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const subgraphUrls = { products: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql` };
  const gateway = (subgraphDefaultMaxAge?: number) =>
    startGateway(
      testGatewayConfig({
        supergraphPath: graph.supergraphPath,
        subgraphUrls,
        responseCache: { enabled: true, timeoutMs: 50, ...(subgraphDefaultMaxAge ? { subgraphDefaultMaxAge } : {}) },
      }),
    );
  plain = await gateway();
  withDefault = await gateway(45);
});
afterAll(async () => {
  await plain?.stop();
  await withDefault?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  await graph?.stop();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 100)); // stores are written in the background

async function twice(gateway: RunningGateway, query: string, headers: Record<string, string> = {}) {
  const first = await graphql(`${gateway.url}/graphql`, query, {}, headers);
  expect(first.body.errors).toBeUndefined();
  await settle();
  const before = proxied;
  const second = await graphql(`${gateway.url}/graphql`, query, {}, headers);
  expect(second.body).toEqual(first.body);
  return { first, second, fetched: proxied - before };
}

describe('a subgraph without cache hints', () => {
  it('is uncacheable by default', async () => {
    const { first, second, fetched } = await twice(
      plain,
      'query Plain { products(first: 2) { edges { node { id name } } } }',
    );
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(second.headers.get('x-cache')).toBe('MISS');
    expect(fetched).toBe(1);
  });

  it('is cached with SUBGRAPH_DEFAULT_MAX_AGE: shared when anonymous, per user when identified', async () => {
    const anonymous = await twice(withDefault, 'query Anon { products(first: 2) { edges { node { id name } } } }');
    expect(anonymous.first.headers.get('cache-control')).toBe('max-age=45, public');
    expect(anonymous.second.headers.get('x-cache')).toBe('HIT');
    expect(anonymous.fetched).toBe(0);

    const query = 'query Users { products(first: 3) { edges { node { id name } } } }';
    const a = { authorization: `Bearer ${await tokenFor(21)}` };
    const b = { authorization: `Bearer ${await tokenFor(22)}` };
    const userA = await twice(withDefault, query, a);
    expect(userA.first.headers.get('cache-control')).toBe('max-age=45, private');
    expect(userA.second.headers.get('x-cache')).toBe('HIT');
    // User B, same query: not A's entry, nor an anonymous one.
    const before = proxied;
    const userB = await graphql(`${withDefault.url}/graphql`, query, {}, b);
    expect(userB.headers.get('x-cache')).toBe('MISS');
    expect(proxied - before).toBe(1);
    const anon = await graphql(`${withDefault.url}/graphql`, query);
    expect(anon.headers.get('x-cache')).toBe('MISS');
  });
});
