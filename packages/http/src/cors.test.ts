// CORS rules (cors.ts) over real HTTP: origin patterns, preflight answers and refusals, and
// the headers every response carries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_EXPOSED_HEADERS, createCors, DEV_CORS_ORIGINS, parseCorsOrigins } from './cors.ts';

describe('parseCorsOrigins', () => {
  it('reads exact origins and wildcards, and `none`', () => {
    expect(parseCorsOrigins('https://shop.example.com, http://localhost:*,https://*.example.com')).toEqual([
      'https://shop.example.com',
      'http://localhost:*',
      'https://*.example.com',
    ]);
    expect(parseCorsOrigins('none')).toEqual([]);
    expect(parseCorsOrigins('*')).toEqual(['*']);
  });

  it('refuses paths, upper case, other schemes and partial wildcards, naming the entry', () => {
    for (const bad of [
      'https://shop.example.com/',
      'HTTP://x.com',
      'ftp://x.com',
      'https://sh*p.com',
      'localhost:5173',
    ])
      expect(() => parseCorsOrigins(`http://localhost:*,${bad}`)).toThrow(bad);
  });
});

describe('origin matching', () => {
  const cors = createCors({ origins: ['https://shop.example.com', 'http://localhost:*', 'https://*.example.org'] });
  it.each([
    ['https://shop.example.com', true],
    ['https://shop.example.com:443', false],
    ['http://shop.example.com', false],
    ['http://localhost:5173', true],
    ['http://localhost', true], // `:*` includes the default port
    ['http://localhost.evil.com:5173', false],
    ['https://a.example.org', true],
    ['https://a.b.example.org', true],
    ['https://example.org', false],
    ['https://evilexample.org', false],
    ['null', false],
    [undefined, false],
    ['', false],
    [`http://localhost:5173${'a'.repeat(10_000)}`, false],
    [`https://${'a'.repeat(400)}.example.org`, false],
    ['http://localhost:5173/path', false],
    ['http://LOCALHOST:5173', false],
  ])('%s → %s', (origin, allowed) => {
    expect(cors.allows(origin)).toBe(allowed);
  });

  it('decisions stay right past the per-origin memo (thousands of distinct origins, asked twice)', () => {
    const memoised = createCors({ origins: ['https://shop.example.com', 'https://*.example.org'] });
    const origins = Array.from({ length: 2500 }, (_, i) =>
      i % 2 === 0 ? `https://s${i}.example.org` : `https://s${i}.example.net`,
    );
    for (const pass of [1, 2]) {
      for (const [i, origin] of origins.entries())
        expect(memoised.allows(origin), `${origin} pass ${pass}`).toBe(i % 2 === 0);
      expect(memoised.allows('https://shop.example.com')).toBe(true);
      expect(memoised.allows('https://shop.example.com.evil')).toBe(false);
    }
  });

  it('development default: any port on loopback hosts, nothing else', () => {
    const dev = createCors({ origins: DEV_CORS_ORIGINS });
    for (const origin of [
      'http://localhost:5173',
      'http://127.0.0.1:4000',
      'http://[::1]:8080',
      'https://localhost:3000',
    ])
      expect(dev.allows(origin)).toBe(true);
    for (const origin of ['http://192.168.1.4:5173', 'http://example.com', 'null'])
      expect(dev.allows(origin)).toBe(false);
  });

  it('`*` allows any well-formed origin but never `null` or garbage', () => {
    const any = createCors({ origins: ['*'] });
    expect(any.allows('https://anything.example')).toBe(true);
    expect(any.allows('null')).toBe(false);
    expect(any.allows('javascript:alert(1)')).toBe(false);
  });
});

describe('responses', () => {
  let server: Server;
  let url: string;
  const handled: string[] = [];
  beforeAll(async () => {
    const cors = createCors({ origins: ['http://localhost:*'], credentials: true });
    server = createServer((req, res) => {
      if (cors.handle(req, res)) return;
      handled.push(`${req.method} ${req.headers.origin ?? '-'}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const corsHeaders = (response: Response) =>
    Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
  const preflight = (origin: string, method: string, headers?: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        ...(headers ? { 'access-control-request-headers': headers } : {}),
      },
    });

  it('an allowed preflight is 204 with the lists, credentials and a max-age', async () => {
    const response = await preflight(
      'http://localhost:5173',
      'POST',
      'content-type,authorization,apollographql-client-name',
    );
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    const headers = corsHeaders(response);
    expect(headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(headers['access-control-allow-credentials']).toBe('true');
    expect(headers['access-control-allow-methods']).toBe('GET, POST');
    expect(headers['access-control-allow-headers']?.split(', ')).toEqual(
      expect.arrayContaining([
        'content-type',
        'authorization',
        'apollographql-client-name',
        'apollographql-client-version',
        'apollo-require-preflight',
        'traceparent',
        'x-request-id',
      ]),
    );
    expect(Number(headers['access-control-max-age'])).toBeGreaterThan(0);
    expect(response.headers.get('vary')).toContain('Origin');
    expect(handled).toEqual([]);
  });

  it.each([
    ['a disallowed origin', 'http://evil.example', 'POST', undefined, 'origin is not allowed'],
    ['Origin: null', 'null', 'POST', undefined, 'origin is not allowed'],
    ['a 10 KB origin', `http://localhost:1${'1'.repeat(10_000)}`, 'POST', undefined, 'origin is not allowed'],
    ['a malformed origin', 'http://localhost:5173\\@evil', 'POST', undefined, 'origin is not allowed'],
    ['a disallowed method', 'http://localhost:5173', 'DELETE', undefined, 'method DELETE is not allowed'],
    ['a disallowed header', 'http://localhost:5173', 'POST', 'content-type, x-evil', 'header x-evil is not allowed'],
  ])(
    'a preflight with %s is 403 FORBIDDEN with the reason and no Access-Control-* header',
    async (_what, origin, method, headers, reason) => {
      const response = await preflight(origin, method, headers);
      expect(response.status).toBe(403);
      expect(corsHeaders(response)).toEqual({});
      expect(response.headers.get('vary')).toContain('Origin');
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('FORBIDDEN');
      expect(body.errors[0]?.message).toContain(reason);
      expect(body.errors[0]?.message.length).toBeLessThan(400);
      expect(handled).toEqual([]);
    },
  );

  it('an allowed request gets the origin, credentials and exposed headers; others only Vary', async () => {
    const allowed = await fetch(url, { headers: { origin: 'http://localhost:5173' } });
    expect(corsHeaders(allowed)).toEqual({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    });
    expect(CORS_EXPOSED_HEADERS).toEqual(
      expect.arrayContaining(['x-request-id', 'x-cache', 'age', 'ratelimit', 'ratelimit-policy', 'retry-after']),
    );
    for (const origin of ['http://evil.example', 'null', undefined]) {
      const other = await fetch(url, { headers: origin ? { origin } : {} });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe('ok');
      expect(corsHeaders(other)).toEqual({});
      expect(other.headers.get('vary')).toBe('Origin');
    }
    // Handled as usual: the server does not block them, the browser withholds the answer.
    expect(handled).toEqual(['GET http://localhost:5173', 'GET http://evil.example', 'GET null', 'GET -']);
  });

  it('an OPTIONS request that is not a preflight goes on to the route', async () => {
    handled.length = 0;
    const response = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173' } });
    expect(response.status).toBe(200);
    expect(handled).toEqual(['OPTIONS http://localhost:5173']);
  });
});
