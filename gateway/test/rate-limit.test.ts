// The limiter's budgets in memory (rate-limit.ts) and client addresses (client-address.ts):
// spend and refuse by policy and key kind, a bounded number of tracked keys under a flood of
// distinct addresses, and X-Forwarded-For read only from trusted proxies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { GraphQLMetrics } from '@trellis/http';
import { ANONYMOUS } from '@trellis/identity';
import { createCircuit } from '@trellis/resilience';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress, compileTrustedProxies, TRUST_NONE } from '../src/client-address.ts';
import type { GatewayContext } from '../src/identity.ts';
import { createRateLimiter } from '../src/rate-limit.ts';
import { createRateLimitGate } from '../src/rate-limit-http.ts';

const limiter = (maxKeys = 1000) =>
  createRateLimiter({
    points: 100,
    anonPoints: 50,
    mutationPoints: 10,
    windowS: 60,
    maxKeys,
    registry: new Registry(),
  });

describe('rate limiter (memory)', () => {
  it('spends points per key and policy, and refuses past the budget until the window resets', async () => {
    const rl = limiter();
    const anon = { kind: 'address' as const, id: '10.0.0.1' };
    expect(await rl.spend(anon, 30, 'cost')).toMatchObject({ allowed: true, quota: 50, remaining: 20 });
    const refused = await rl.spend(anon, 21, 'cost');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, policy: 'cost' });
    expect(refused.resetS).toBeGreaterThan(0);
    expect(refused.resetS).toBeLessThanOrEqual(60);
    // A refused spend still counts: the key stays refused for the window.
    expect((await rl.spend(anon, 1, 'cost')).allowed).toBe(false);
    // Its mutation budget and other keys are untouched.
    expect(await rl.spend(anon, 10, 'mutations')).toMatchObject({ allowed: true, quota: 10, remaining: 0 });
    expect((await rl.spend(anon, 1, 'mutations')).allowed).toBe(false);
    expect(await rl.spend({ kind: 'user', id: '10.0.0.1' }, 1, 'cost')).toMatchObject({ allowed: true, quota: 100 });
    expect((await rl.spend({ kind: 'address', id: '10.0.0.2' }, 1, 'cost')).allowed).toBe(true);
  });

  it('tracks a bounded number of keys under a flood of distinct addresses; an evicted key starts afresh', async () => {
    const rl = limiter(1000);
    const first = { kind: 'address' as const, id: '192.0.2.1' };
    expect((await rl.spend(first, 40, 'cost')).remaining).toBe(10);
    for (let i = 0; i < 20_000; i++) await rl.spend({ kind: 'address', id: `flood-${i}` }, 1, 'cost');
    expect(rl.trackedKeys()).toBe(1000);
    // Its counts were dropped with it (the limiter's own storage is bounded the same way).
    expect((await rl.spend(first, 1, 'cost')).remaining).toBe(49);
  });
});

describe('rate limiter (a hung Redis)', () => {
  it('a request whose admission failed open is charged its estimate without a second Redis call', async () => {
    // A Redis that accepts connections and never answers (SIGSTOP).
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const registry = new Registry();
    const limiter = createRateLimiter({
      points: 100,
      anonPoints: 50,
      mutationPoints: 10,
      windowS: 60,
      maxKeys: 1000,
      redisUrl: `redis://127.0.0.1:${port}`,
      circuit: createCircuit({ timeoutMs: 30, openMs: 60_000 }),
      registry,
    });
    const storeCalls = async () => {
      const metric = await registry.getSingleMetric('trellis_gateway_rate_limit_store_calls_total')?.get();
      return Object.fromEntries((metric?.values ?? []).map((v) => [v.labels.outcome, v.value]));
    };
    try {
      const gate = createRateLimitGate({
        limiter,
        identify: async () => ANONYMOUS,
        trust: TRUST_NONE,
        metrics: { record() {} } as unknown as GraphQLMetrics,
      });
      const req = { socket: { remoteAddress: '10.0.0.9' }, headers: {} } as unknown as IncomingMessage;
      const res = { setHeader() {} } as unknown as ServerResponse;
      expect(await gate.front().serve(req, res, { method: 'POST', body: {}, search: '' } as never)).toBe(false);
      const slot = gate.slotOf(req);
      expect(slot?.decisions.get('cost')).toMatchObject({ allowed: true, failedOpen: true });
      expect(await storeCalls()).toMatchObject({ timeout: 1, ok: 0, error: 0, skipped: 0 });
      // The estimate (a query, then a mutation) is let through at once, without asking Redis.
      const context = { rateLimit: slot } as GatewayContext;
      const started = performance.now();
      await gate.spendEstimate(context, 25, 'query');
      await gate.spendEstimate(context, 5, 'mutation');
      expect(performance.now() - started).toBeLessThan(10);
      expect(slot?.decisions.get('mutations')).toMatchObject({ allowed: true, failedOpen: true });
      expect(await storeCalls()).toMatchObject({ timeout: 1, ok: 0, error: 0, skipped: 0 });
    } finally {
      await limiter.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress },
    connection: { remoteAddress },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  }) as unknown as IncomingMessage;

describe('client address', () => {
  it('keys IPv4 as is, IPv4-mapped IPv6 as IPv4 and other IPv6 by /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::2'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });

  it('ignores X-Forwarded-For from an untrusted peer; from a trusted proxy takes the nearest untrusted hop', () => {
    expect(clientAddress(request('198.51.100.7', '1.2.3.4'), TRUST_NONE)).toBe('198.51.100.7');
    const loopback = compileTrustedProxies(['loopback']);
    expect(clientAddress(request('198.51.100.7', '1.2.3.4'), loopback)).toBe('198.51.100.7');
    expect(clientAddress(request('127.0.0.1', '1.2.3.4'), loopback)).toBe('1.2.3.4');
    // A client-written hop in front of the one the proxy appended changes nothing.
    expect(clientAddress(request('127.0.0.1', 'spoofed-junk, 9.9.9.9, 1.2.3.4'), loopback)).toBe('1.2.3.4');
    const chain = compileTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
    expect(clientAddress(request('127.0.0.1', '5.6.7.8, 10.1.1.1'), chain)).toBe('5.6.7.8');
    expect(() => compileTrustedProxies(['not-an-address'])).toThrow();
  });
});
