// The internal surface off the public port: with ADMIN_PORT (adminPort) the gateway serves
// /metrics and /admin/cache/purge on its own listener only, and the public port answers 404
// for them; without it (pnpm dev, tests) both stay on the public port.
import { join } from 'node:path';
import { common, parseEnv } from '@trellis/config';
import { startGateway } from '@trellis/gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { testGatewayConfig } from '../../tools/src/harness.ts';
import { ROOT } from '../../tools/src/workspace.ts';
import { gatewayConfig } from '../src/env.ts';

const supergraphPath = join(ROOT, 'supergraph.graphql');
const cache = { enabled: true, timeoutMs: 50 };
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

const purge = (base: string) =>
  fetch(`${base}/admin/cache/purge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ typename: 'Product' }),
  });

describe('gateway internal surface', () => {
  it('serves /metrics and /admin/cache/purge on ADMIN_PORT only', async () => {
    const gateway = await startGateway(testGatewayConfig({ supergraphPath, adminPort: 0, responseCache: cache }));
    stop = () => gateway.stop();
    expect(gateway.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.adminUrl).not.toBe(gateway.url);
    const publicMetrics = await fetch(`${gateway.url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(((await publicMetrics.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect((await purge(gateway.url)).status).toBe(404);
    const metrics = await fetch(`${gateway.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('trellis_graphql_requests_total');
    // The purge route itself still decides who may purge.
    const refused = await purge(gateway.adminUrl!);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // GraphQL and health stay public, and only public.
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${gateway.adminUrl}/graphql`)).status).toBe(404);
  });

  it('keeps them on the public port without ADMIN_PORT', async () => {
    const gateway = await startGateway(testGatewayConfig({ supergraphPath, responseCache: cache }));
    stop = () => gateway.stop();
    expect(gateway.adminUrl).toBeUndefined();
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(200);
    expect((await purge(gateway.url)).status).toBe(401);
  });

  it('refuses an ADMIN_PORT equal to PORT, or not a port, with one line naming it', async () => {
    expect(gatewayConfig([], { ADMIN_PORT: '9464' }).adminPort).toBe(9464);
    expect(gatewayConfig([], {}).adminPort).toBeUndefined();
    // (loadEnv prints that line and exits; parseEnv is the same check, throwing.)
    expect(() => parseEnv({ ADMIN_PORT: common.ADMIN_PORT.optional() }, { ADMIN_PORT: 'x' })).toThrow(
      /^Invalid environment: ADMIN_PORT /,
    );
    await expect(startGateway(testGatewayConfig({ supergraphPath, port: 4555, adminPort: 4555 }))).rejects.toThrow(
      'ADMIN_PORT (4555) must differ from PORT',
    );
  });
});
