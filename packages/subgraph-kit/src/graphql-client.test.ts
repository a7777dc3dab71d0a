// The signed subgraph client against a real HTTP server that verifies the identity header
// the way every subgraph does (createViewerVerifier) and answers as told.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createViewerVerifier, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphClient, SubgraphRequestFailed } from './graphql-client.ts';

const SECRET = 'test-subgraph-signing-secret-of-32-chars';
type Answer = (req: IncomingMessage, res: ServerResponse, request: { query: string; variables: unknown }) => void;
let answer: Answer;
let seen: Viewer | Error | undefined;
let url: string;
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const header = req.headers[IDENTITY_HEADER];
  seen = await createViewerVerifier(SECRET)(typeof header === 'string' ? header : undefined).catch((e: Error) => e);
  answer(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
});
const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('createSubgraphClient', () => {
  it('POSTs the query and variables with a signed service identity and resolves to data', async () => {
    answer = (_req, res, request) => json(res, 200, { data: { echo: request } });
    const client = createSubgraphClient({ url, timeoutMs: 2000, signingSecret: SECRET });
    const data = await client.request<{ echo: unknown }>('query Q($a: Int) { a }', { a: 1 });
    expect(data.echo).toEqual({ query: 'query Q($a: Int) { a }', variables: { a: 1 } });
    expect(seen).toEqual({ userId: null, scopes: [] });
  });

  it('signs as the viewer it is given', async () => {
    answer = (_req, res) => json(res, 200, { data: { ok: true } });
    const viewer = { userId: '7', scopes: ['admin'] };
    await createSubgraphClient({ url, timeoutMs: 2000, signingSecret: SECRET, viewer }).request('{ ok }');
    expect(seen).toEqual(viewer);
  });

  it('a client with another secret is refused by the verifier (the server sees a bad identity)', async () => {
    answer = (_req, res) => json(res, 200, { data: { ok: true } });
    await createSubgraphClient({ url, timeoutMs: 2000, signingSecret: 'another-secret' }).request('{ ok }');
    expect(seen).toBeInstanceOf(Error);
  });

  it('GraphQL errors, missing data, a non-200 answer, an unreachable or slow server: SubgraphRequestFailed', async () => {
    const client = createSubgraphClient({ url, timeoutMs: 300, signingSecret: SECRET });
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error as Error,
      );

    answer = (_req, res) => json(res, 200, { errors: [{ message: 'Cannot query field "x"' }] });
    let error = await failure(client.request('{ x }'));
    expect(error).toBeInstanceOf(SubgraphRequestFailed);
    expect(error?.message).toBe('Cannot query field "x"');

    answer = (_req, res) => json(res, 200, { data: null });
    expect((await failure(client.request('{ x }')))?.message).toBe('no data');

    answer = (_req, res) => json(res, 500, { errors: [{ message: 'boom' }] });
    error = await failure(client.request('{ x }'));
    expect(error).toBeInstanceOf(SubgraphRequestFailed);
    expect(error?.message).toBe('HTTP 500');

    answer = () => {}; // never answers
    const started = Date.now();
    error = await failure(client.request('{ x }'));
    expect(error).toBeInstanceOf(SubgraphRequestFailed);
    expect(Date.now() - started).toBeLessThan(2000);

    const closed = createSubgraphClient({ url: 'http://127.0.0.1:1/graphql', timeoutMs: 300, signingSecret: SECRET });
    expect(await failure(closed.request('{ x }'))).toBeInstanceOf(SubgraphRequestFailed);
  });
});
