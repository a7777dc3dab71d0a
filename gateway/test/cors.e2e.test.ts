// CORS at the gateway (packages/http/src/cors.ts wired by startGateway): preflights, the
// headers of computed and cached answers (identical), disallowed origins handled as usual
// but without any Access-Control-* header, and Apollo's CSRF prevention still in force.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph } from '../../tools/src/harness.ts';

const ALLOWED = 'http://localhost:5173';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

describe('CORS at the gateway', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startGraph(inject('databaseUrl'), { responseCache: { enabled: true, timeoutMs: 50 } });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  const tag = `c${Date.now()}`;
  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });

  it('answers a browser preflight for the endpoint with 204', async () => {
    const response = await fetch(graph.url, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization, apollographql-client-name, traceparent',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(response.headers.get('access-control-max-age')).toBe('7200');
    // Not configured: no credentials.
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('a cached hit carries exactly the CORS headers of the computed answer', async () => {
    const query = `query Cors_${tag} { products(first: 2) { edges { node { id name } } } }`;
    const miss = await post(query, { origin: ALLOWED });
    expect(miss.headers.get('x-cache')).toBe('MISS');
    const missBody = await miss.text();
    await sleep(100);
    const hit = await post(query, { origin: ALLOWED });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await hit.text()).toBe(missBody);
    expect(corsHeaders(hit)).toEqual(corsHeaders(miss));
    expect(corsHeaders(miss)).toEqual({
      'access-control-allow-origin': ALLOWED,
      'access-control-expose-headers': 'x-request-id, x-cache, age, ratelimit, ratelimit-policy, retry-after',
      vary: 'Origin',
    });
    // The entry stored for one origin serves another with that one's headers.
    const other = await post(query, { origin: 'http://127.0.0.1:3000' });
    expect(other.headers.get('x-cache')).toBe('HIT');
    expect(other.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
  });

  it('a disallowed origin gets the same answer without any Access-Control-* header', async () => {
    const query = `query CorsOther_${tag} { product(id: "3") { id name } }`;
    const allowed = await post(query, { origin: ALLOWED });
    const allowedBody = await allowed.json();
    for (const origin of ['https://evil.example', 'null', `http://localhost:${'9'.repeat(5000)}`, 'not an origin']) {
      const response = await post(query, { origin });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(allowedBody);
      expect(corsHeaders(response)).toEqual({ vary: 'Origin' });
    }
  });

  it('refuses preflights for other origins, methods and headers with a typed 403', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ origin: 'https://evil.example', 'access-control-request-method': 'POST' }, 'origin is not allowed'],
      [{ origin: 'null', 'access-control-request-method': 'POST' }, 'origin is not allowed'],
      [{ origin: ALLOWED, 'access-control-request-method': 'PUT' }, 'method PUT is not allowed'],
      [
        { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom' },
        'header x-custom is not allowed',
      ],
    ];
    for (const [headers, reason] of cases) {
      const response = await fetch(graph.url, { method: 'OPTIONS', headers });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('FORBIDDEN');
      expect(body.errors[0]?.message).toContain(reason);
      expect(corsHeaders(response)).toEqual({
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      });
    }
  });

  it('CSRF prevention still refuses a simple GET from an allowed origin, cached or not', async () => {
    const query = `query CorsCsrf_${tag} { product(id: "4") { id } }`;
    // Cached first through a preflighted request.
    await post(query, { origin: ALLOWED });
    await sleep(100);
    const simple = await fetch(`${graph.url}?query=${encodeURIComponent(query)}`, { headers: { origin: ALLOWED } });
    expect(simple.status).toBe(400);
    expect(simple.headers.get('x-cache')).toBeNull();
    expect(await simple.text()).toContain('Cross-Site Request Forgery');
    const preflighted = await fetch(`${graph.url}?query=${encodeURIComponent(query)}`, {
      headers: { origin: ALLOWED, 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
    expect(preflighted.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('every response varies on Origin, health and errors included', async () => {
    for (const [path, init] of [
      ['/health/ready', {}],
      ['/nope', {}],
      ['/graphql', { method: 'PUT' }],
    ] as const) {
      const response = await fetch(graph.url.replace('/graphql', path), { ...init, headers: { origin: ALLOWED } });
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    }
  });
});
