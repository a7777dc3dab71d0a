// Security defaults and bad input through the real gateway in production mode: typed
// errors with the right HTTP status, never a crash, a stack trace or a schema hint.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql } from '@trellis/testing';
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

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(graph.url, { method: 'POST', headers, body });
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('bad input gets a typed error and the right status', () => {
  it('malformed JSON → 400 BAD_REQUEST', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('invalid GraphQL → 400 GRAPHQL_PARSE_FAILED; unknown field → 400 GRAPHQL_VALIDATION_FAILED without suggestions', async () => {
    const parse = await graphql(graph.url, '{ product(id: "1") { name ');
    expect(parse.status).toBe(400);
    expect(parse.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await graphql(graph.url, '{ prodct(id: "1") { name } }');
    expect(validation.status).toBe(400);
    expect(validation.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(validation.body)).not.toMatch(/Did you mean/);
  });

  it('wrong variable types → 400 BAD_USER_INPUT', async () => {
    const { status, body } = await graphql(graph.url, 'query($id: ID!) { product(id: $id) { name } }', {
      id: { nested: true },
    });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('unknown operation name → 400 OPERATION_RESOLUTION_FAILURE', async () => {
    const response = await post(
      JSON.stringify({ query: 'query A { __typename } query B { __typename }', operationName: 'C' }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
  });

  it('refuses introspection in production', async () => {
    const { status, body } = await graphql(graph.url, '{ __schema { types { name } } }');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('refuses batched requests, oversized bodies and simple (CSRF-able) requests', async () => {
    const batch = await post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(batch.status).toBe(400);
    const huge = await post(JSON.stringify({ query: `{ __typename } # ${'x'.repeat(1_100_000)}` }));
    expect(huge.status).toBe(413);
    const csrf = await fetch(`${graph.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(csrf.status).toBe(400);
    const textPlain = await post(JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(400);
    const preflighted = await fetch(`${graph.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });

  it('masks unexpected errors as "Internal server error" with the request id, leaking nothing', async () => {
    const { sql } = graph.subgraphs.products!.running.database;
    await sql`alter table products.products rename to products_hidden`;
    try {
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' },
        body: JSON.stringify({ query: '{ product(id: "1") { name } }' }),
      });
      expect(response.headers.get('x-request-id')).toBe('req-123');
      const body = (await response.json()) as any;
      expect(body.data).toEqual({ product: null });
      expect(body.errors[0].message).toBe('Internal server error');
      expect(body.errors[0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-123' });
      expect(JSON.stringify(body)).not.toMatch(/relation|products_hidden|postgres|stack/i);
    } finally {
      await sql`alter table products.products_hidden rename to products`;
    }
    const generated = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves no explorer page in production', async () => {
    const response = await fetch(graph.url, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/<html/i);
  });
});

describe('persisted operations', () => {
  it('supports automatic persisted queries (APQ)', async () => {
    const query = '{ product(id: "2") { id name } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha(query) } };
    const miss = await post(JSON.stringify({ extensions }));
    expect(((await miss.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(JSON.stringify({ query, extensions }));
    expect(((await register.json()) as any).data.product.id).toBe('2');
    const hit = await post(JSON.stringify({ extensions }));
    expect(((await hit.json()) as any).data.product.id).toBe('2');
  });

  describe('trusted documents mode', () => {
    let gateway: RunningGateway;
    let dir: string;
    const allowed = 'query Product($id: ID!) { product(id: $id) { id name } }';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'trellis-trusted-'));
      const manifest = join(dir, 'manifest.json');
      await writeFile(
        manifest,
        JSON.stringify({
          format: 'apollo-persisted-query-manifest',
          version: 1,
          operations: [{ id: sha(allowed), name: 'Product', type: 'query', body: allowed }],
        }),
      );
      gateway = await startGateway(
        testGatewayConfig({ nodeEnv: 'production', supergraphPath: graph.supergraphPath, trustedDocuments: manifest }),
      );
    });
    afterAll(async () => {
      await gateway?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('runs manifest operations by id or by text, and refuses everything else before parsing', async () => {
      const url = `${gateway.url}/graphql`;
      const byId = await graphql(url, undefined as unknown as string, { id: '3' }, {});
      expect(byId.status).toBe(400);
      const call = (body: unknown) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const viaHash = await call({
        variables: { id: '3' },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha(allowed) } },
      });
      expect(((await viaHash.json()) as any).data.product.id).toBe('3');
      const viaDocumentId = await call({ documentId: `sha256:${sha(allowed)}`, variables: { id: '4' } });
      expect(((await viaDocumentId.json()) as any).data.product.id).toBe('4');
      const viaText = await call({ query: allowed, variables: { id: '5' } });
      expect(((await viaText.json()) as any).data.product.id).toBe('5');
      const other = await call({ query: '{ product(id: "1") { id } }' });
      expect(other.status).toBe(400);
      expect(((await other.json()) as any).errors[0]).toMatchObject({
        message: 'Operation is not in the trusted documents manifest',
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
      });
    });
  });
});

// Regressions found by the fuzz suite (pnpm test:fuzz): each input once broke the contract.
describe('fuzz-suite findings stay fixed', () => {
  it('methods other than GET and POST → 405 with a typed JSON error and an Allow header', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await fetch(graph.url, { method, body: method === 'OPTIONS' ? undefined : '{}' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, POST');
      expect(((await response.json()) as any).errors[0]).toEqual({
        message: `Method ${method} is not allowed`,
        extensions: { code: 'BAD_REQUEST' },
      });
    }
  });
});
