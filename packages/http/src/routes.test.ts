// healthRoutes and routeRequests over a real server: the probes every service answers, and
// the exact-path routing of the admin listener and the workers' health and metrics server.
import type { AddressInfo } from 'node:net';
import { createLogger } from '@trellis/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoundedServer, DEFAULT_CONNECTION_LIMITS, healthRoutes, routeRequests } from './index.ts';

let ready = false;
let base: string;
const server = createBoundedServer(
  DEFAULT_CONNECTION_LIMITS,
  routeRequests(
    {
      ...healthRoutes(() => ready),
      '/boom': async () => {
        throw new Error('boom');
      },
    },
    createLogger({ service: 'test', level: 'silent' }),
  ),
);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
};

describe('healthRoutes', () => {
  it('live always; ready and /health 503 until isReady(), then 200', async () => {
    expect(await get('/health/live')).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: { status: 'live' },
    });
    expect(await get('/health/ready')).toMatchObject({ status: 503, body: { status: 'not ready' } });
    expect(await get('/health')).toMatchObject({ status: 503, body: { status: 'not ready' } });
    ready = true;
    expect(await get('/health/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await get('/health?x=1')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});

describe('routeRequests', () => {
  it('any other path is a typed 404; a failing route a typed 500', async () => {
    expect(await get('/nope')).toMatchObject({
      status: 404,
      body: { errors: [{ extensions: { code: 'NOT_FOUND' } }] },
    });
    expect(await get('/boom')).toMatchObject({
      status: 500,
      body: { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    });
  });
});
