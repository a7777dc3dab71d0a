// The response cache's front (gateway/src/response-cache.ts): hits are answered before
// Apollo's pipeline, so everything the pipeline would have done for them is checked here —
// bytes and headers identical to the miss, metrics and access log still counted, CSRF
// prevention still applied to GET, keys split by scope set and by supergraph version, and an
// answer that raced an invalidation is not stored.
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { type RunningGateway, startGateway } from '@trellis/gateway';
import { graphql, until } from '@trellis/testing';
import { type FaultProxy, startFaultProxy } from '@trellis/testing/fault-proxy';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function counterValue(gateway: RunningGateway, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await gateway.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}

describe('response cache front', () => {
  let graph: TestGraph;
  const responseCache = { enabled: true, timeoutMs: 50 };
  beforeAll(async () => {
    graph = await startGraph(inject('databaseUrl'), { responseCache });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  const tag = `f${Date.now()}`;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('mutations are not looked up in the store (no round trip; no timeout at the onset of an outage)', async () => {
    // Lookups (in memory a peek is a get); writes happen only for storable answers.
    const peeks = () => counterValue(graph.gateway, 'trellis_cache_calls_total', { op: 'get', outcome: 'ok' });
    const admin = { authorization: `Bearer ${await tokenFor(1, ['admin'])}` };
    const before = await peeks();
    const mutation =
      'mutation Rename($n: String!) { updateProduct(input: { id: "3", name: $n }) { userErrors { code } } }';
    for (const body of [
      { query: mutation, variables: { n: `a${tag}` } },
      { query: `# a comment\n  mutation { updateProduct(input: { id: "3", price: 9.5 }) { userErrors { code } } }` },
      { query: `query Other { __typename } ${mutation}`, operationName: 'Rename', variables: { n: `b${tag}` } },
    ]) {
      const response = await post(body, admin);
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).errors).toBeUndefined();
    }
    expect(await peeks()).toBe(before);
    await post({ query: `query Peeked_${tag} { __typename }` });
    expect(await peeks()).toBe(before + 1);
  });

  it('a hit is byte for byte the answer the miss sent, with the same headers', async () => {
    const body = {
      query: `query Bytes_${tag}($n: Int!) { products(first: $n) { edges { node { id name } } } }`,
      variables: { n: 3 },
    };
    const miss = await post(body);
    const missText = await miss.text();
    expect(miss.headers.get('x-cache')).toBe('MISS');
    await sleep(100);
    const hit = await post(body);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await hit.text()).toBe(missText);
    for (const header of ['content-type', 'cache-control'])
      expect(hit.headers.get(header)).toBe(miss.headers.get(header));
    expect(hit.headers.get('x-request-id')).not.toBe(miss.headers.get('x-request-id'));
    // No variables, null and {} are one request.
    const bare = `query Bare_${tag} { product(id: "2") { id } }`;
    await post({ query: bare });
    await sleep(100);
    expect((await post({ query: bare, variables: {} })).headers.get('x-cache')).toBe('HIT');
    expect((await post({ query: bare, variables: null })).headers.get('x-cache')).toBe('HIT');
  });

  it('hits are counted in the request metrics under their operation name', async () => {
    const query = `query Counted_${tag} { product(id: "1") { id } }`;
    await post({ query });
    await sleep(100);
    const name = 'trellis_graphql_requests_total';
    const before = await counterValue(graph.gateway, name, { operation: `Counted_${tag}`, code: 'OK' });
    const hits = await counterValue(graph.gateway, 'trellis_gateway_response_cache_total', { result: 'hit' });
    for (let i = 0; i < 3; i++) expect((await post({ query })).headers.get('x-cache')).toBe('HIT');
    expect(await counterValue(graph.gateway, name, { operation: `Counted_${tag}`, code: 'OK' })).toBe(before + 3);
    expect(await counterValue(graph.gateway, 'trellis_gateway_response_cache_total', { result: 'hit' })).toBe(hits + 3);
  });

  it('identical cold requests are computed once: the others wait for it and get its answer', async () => {
    const query = `query Herd_${tag} { products(first: 4) { edges { node { id name inStock } } } }`;
    const fetches = async () => {
      const metric = await graph.gateway.registry.getSingleMetric('trellis_gateway_subgraph_fetches_total')?.get();
      return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    };
    // One request alone, to learn how many subgraph fetches one execution makes.
    const probe = `query HerdProbe_${tag} { products(first: 4) { edges { node { id name inStock } } } }`;
    const beforeProbe = await fetches();
    await post({ query: probe });
    const perExecution = (await fetches()) - beforeProbe;
    expect(perExecution).toBeGreaterThanOrEqual(2); // products, then inventory
    const before = await fetches();
    const responses = await Promise.all(Array.from({ length: 12 }, () => post({ query })));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(await fetches()).toBe(before + perExecution);
    expect(new Set(texts).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('x-cache') === 'MISS')).toHaveLength(1);
    expect(responses.filter((r) => r.headers.get('x-cache') === 'HIT')).toHaveLength(11);
    // A different user's private answer is never handed to a waiting request.
    const me = `query HerdMe_${tag} { me { id } }`;
    const users = await Promise.all(
      [41, 42, 43].map(async (id) => ({ authorization: `Bearer ${await tokenFor(id)}` })),
    );
    const answers = await Promise.all(users.map(async (headers) => (await post({ query: me }, headers)).json()));
    expect(answers.map((a: any) => a.data.me.id)).toEqual(['41', '42', '43']);
  });

  it('GET is served from the cache only when Apollo would accept it (CSRF prevention)', async () => {
    const query = `query Get_${tag} { product(id: "3") { id name } }`;
    const url = `${graph.url}?query=${encodeURIComponent(query)}`;
    const first = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    await sleep(100);
    const second = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(second.headers.get('x-cache')).toBe('HIT');
    // The same cached query as a simple (unpreflighted) GET is still refused, typed.
    const simple = await fetch(url);
    expect(simple.status).toBe(400);
    expect(simple.headers.get('x-cache')).toBeNull();
    expect(((await simple.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    // And a POST with a simple content type never reads the cache.
    const textPlain = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query }),
    });
    expect(textPlain.headers.get('x-cache')).not.toBe('HIT');
  });

  it('public entries are split by scope set: an admin-scoped answer never serves another caller', async () => {
    const query = `query Scoped_${tag} { product(id: "4") { id name } }`;
    const admin = { authorization: `Bearer ${await tokenFor(31, ['admin'])}` };
    const plain = { authorization: `Bearer ${await tokenFor(32)}` };
    const samePlainScopes = { authorization: `Bearer ${await tokenFor(33)}` };
    await post({ query }, admin);
    await sleep(100);
    expect((await post({ query }, admin)).headers.get('x-cache')).toBe('HIT');
    expect((await post({ query }, plain)).headers.get('x-cache')).toBe('MISS');
    expect((await post({ query })).headers.get('x-cache')).toBe('MISS');
    await sleep(100);
    // A PUBLIC answer is shared by callers with the same scopes.
    expect((await post({ query }, samePlainScopes)).headers.get('x-cache')).toBe('HIT');
    // A bad token is never answered from the cache: Apollo's path gives the typed 401.
    const forged = await post({ query }, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('x-cache')).toBeNull();
  });

  it('the same body text with another Accept header is another entry (the digest memo keys by both)', async () => {
    const body = { query: `query Accept_${tag} { product(id: "5") { id } }` };
    const json = { accept: 'application/json' };
    const graphqlResponse = { accept: 'application/graphql-response+json' };
    expect((await post(body, json)).headers.get('x-cache')).toBe('MISS');
    await sleep(100);
    expect((await post(body, json)).headers.get('x-cache')).toBe('HIT');
    const other = await post(body, graphqlResponse);
    expect(other.headers.get('x-cache')).toBe('MISS');
    expect(other.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    await sleep(100);
    const hit = await post(body, graphqlResponse);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect((await post(body, json)).headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('a hit of a repeated body is served without parsing it; a repeat that reaches Apollo is parsed and answered', async () => {
    const body = { query: `query Parsed_${tag}($id: ID!) { product(id: $id) { id } }`, variables: { id: '4' } };
    const text = JSON.stringify(body);
    const parse = vi.spyOn(JSON, 'parse');
    const parsesOfBody = () => parse.mock.calls.filter(([arg]) => arg === text).length;
    try {
      const miss = await post(body);
      expect(miss.headers.get('x-cache')).toBe('MISS');
      expect(parsesOfBody()).toBe(1);
      await sleep(100);
      const hit = await post(body);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(parsesOfBody()).toBe(1);
      // Bypassing the cache, the same text goes to Apollo: its body is parsed then.
      const bypass = await post(body, { 'cache-control': 'no-cache' });
      expect(((await bypass.json()) as any).data).toEqual({ product: { id: '4' } });
      expect(parsesOfBody()).toBe(2);
    } finally {
      parse.mockRestore();
    }
  });

  it('one connection alternating bodies gets each its own answer (the per-connection memo of the last body)', async () => {
    // One socket for every request, so each repeat meets the connection's memo of the body
    // before it, first the same text, then another one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; cache: string | undefined; socket: unknown; text: string }>((resolve, reject) => {
        const request = httpRequest(
          graph.url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                cache: response.headers['x-cache'] as string | undefined,
                socket: request.socket,
                text,
              }),
            );
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    try {
      const bodies = ['1', '2'].map((id) =>
        JSON.stringify({ query: `query Alternate_${tag} { product(id: "${id}") { id } }` }),
      );
      const [a, b] = bodies as [string, string];
      const first = await send(a);
      expect(first.cache).toBe('MISS');
      expect((await send(b)).cache).toBe('MISS');
      await sleep(100);
      const answers = [];
      for (const body of [a, a, b, b, a, b]) answers.push(await send(body));
      expect(new Set(answers.map((answer) => answer.socket)).size).toBe(1);
      expect(answers.map((answer) => answer.cache)).toEqual(['HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT']);
      expect(answers.map((answer) => JSON.parse(answer.text).data.product.id)).toEqual(['1', '1', '2', '2', '1', '2']);
      // The same text as another content type is not a vetted JSON body: Apollo refuses it.
      const plain = await send(a, { 'content-type': 'text/plain', 'apollo-require-preflight': 'true' });
      expect(plain.status).toBe(400);
      expect((await send(a)).cache).toBe('HIT');
    } finally {
      agent.destroy();
    }
  });

  it('a changed supergraph never reads entries of the previous one', async () => {
    const query = `query Generation_${tag} { product(id: "5") { id } }`;
    await post({ query });
    await sleep(100);
    expect((await post({ query })).headers.get('x-cache')).toBe('HIT');
    const sdl = await readFile(graph.supergraphPath, 'utf8');
    await writeFile(graph.supergraphPath, `${sdl}\n# reloaded ${tag}\n`);
    await until(
      async () => (await post({ query })).headers.get('x-cache'),
      (cache) => cache === 'MISS',
      5000,
    );
  });

  describe('an answer racing an invalidation', () => {
    let proxy: FaultProxy;
    let slow: RunningGateway;
    beforeAll(async () => {
      // A second gateway whose products fetches take 400 ms, so an invalidation can land mid-request.
      const products = new URL(graph.subgraphs.products!.url);
      proxy = await startFaultProxy({ target: { host: products.hostname, port: Number(products.port) } });
      slow = await startGateway(
        testGatewayConfig({
          supergraphPath: graph.supergraphPath,
          responseCache,
          subgraphUrls: { products: `http://127.0.0.1:${proxy.port}${products.pathname}` },
        }),
      );
    });
    afterAll(async () => {
      await slow?.stop();
      await proxy?.close();
    });

    it('requests whose answers are not storable wait for an identical one at most once', async () => {
      const url = `${slow.url}/graphql`;
      // A forged cursor: the products subgraph answers with a typed error, never stored.
      const query = `query Unstorable_${tag} { products(first: 2, after: "forged") { edges { node { id } } } }`;
      proxy.setMode('latency', { latencyMs: 200 });
      try {
        const burst = async () => {
          const started = performance.now();
          const answers = await Promise.all([1, 2, 3].map(() => graphql(url, query)));
          for (const answer of answers) expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
          return performance.now() - started;
        };
        const first = await burst(); // the others waited for the first, then ran themselves
        const second = await burst(); // known unstorable: all three run at once
        expect(first).toBeGreaterThan(second + 250);
      } finally {
        proxy.setMode('pass');
      }
    });

    it('is not stored when one of its entities was invalidated while it was computed', async () => {
      const url = `${slow.url}/graphql`;
      const query = `query Race_${tag} { product(id: "6") { id name } }`;
      await graphql(url, query); // connections warm
      proxy.setMode('latency', { latencyMs: 400 });
      const stale = await counterValue(slow, 'trellis_gateway_response_cache_total', { result: 'stale' });
      const other = `query RaceOther_${tag} { product(id: "6") { id price } }`;
      const inFlight = graphql(url, other);
      await sleep(150);
      const purge = await fetch(`${slow.url}/admin/cache/purge`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await tokenFor(1, ['admin'])}`,
        },
        body: JSON.stringify({ typename: 'Product', id: '6' }),
      });
      expect(purge.status).toBe(200);
      expect((await inFlight).status).toBe(200);
      proxy.setMode('pass');
      await sleep(100);
      expect(await counterValue(slow, 'trellis_gateway_response_cache_total', { result: 'stale' })).toBe(stale + 1);
      expect((await graphql(url, other)).headers.get('x-cache')).toBe('MISS');
    });
  });
});
