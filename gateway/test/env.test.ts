// The gateway's environment (env.ts): defaults and validation of the browser-facing settings.
import { DEV_CORS_ORIGINS } from '@trellis/http';
import { describe, expect, it } from 'vitest';
import { gatewayConfig } from '../src/env.ts';
import { DEFAULT_RATE_LIMIT } from '../src/rate-limit.ts';

describe('CORS settings', () => {
  it('development and tests allow loopback origins, production none', () => {
    expect(gatewayConfig([], {}).cors).toEqual({ origins: [...DEV_CORS_ORIGINS], credentials: false });
    expect(gatewayConfig([], { NODE_ENV: 'test' }).cors?.origins).toEqual([...DEV_CORS_ORIGINS]);
    expect(gatewayConfig([], { NODE_ENV: 'production' }).cors).toEqual({ origins: [], credentials: false });
  });

  it('CORS_ORIGINS replaces the default; `none` turns CORS off; credentials are opt-in', () => {
    expect(
      gatewayConfig([], {
        NODE_ENV: 'production',
        CORS_ORIGINS: 'https://shop.example.com, https://*.example.com',
        CORS_CREDENTIALS: 'true',
      }).cors,
    ).toEqual({ origins: ['https://shop.example.com', 'https://*.example.com'], credentials: true });
    expect(gatewayConfig([], { CORS_ORIGINS: 'none' }).cors?.origins).toEqual([]);
  });
});

describe('traffic control settings', () => {
  it('defaults: rate limits on with the documented budgets, no trusted proxy, 128 fetches in flight per subgraph', () => {
    const config = gatewayConfig([], {});
    expect(config.rateLimit).toEqual({ ...DEFAULT_RATE_LIMIT, enabled: true });
    expect(config.rateLimit).toMatchObject({
      points: 200_000_000,
      anonPoints: 200_000_000,
      mutationPoints: 1_000_000,
      windowS: 60,
      trustedProxies: [],
      byClient: [],
    });
    expect(config.subgraphConcurrency).toEqual({ maxInFlight: 128, queueMs: 100, perSubgraph: {} });
  });

  it('reads the budgets, trusted proxies, client names and per-subgraph concurrency', () => {
    const config = gatewayConfig([], {
      RATE_LIMIT: 'off',
      RATE_LIMIT_POINTS: '5000',
      RATE_LIMIT_ANON_POINTS: '1000',
      RATE_LIMIT_MUTATION_POINTS: '50',
      RATE_LIMIT_WINDOW_S: '3600',
      TRUSTED_PROXIES: 'loopback, 10.0.0.0/8',
      RATE_LIMIT_BY_CLIENT: 'on',
      CLIENT_NAMES: 'storefront, admin',
      SUBGRAPH_MAX_CONCURRENCY: '32',
      SUBGRAPH_MAX_CONCURRENCY_REVIEWS: '8',
      SUBGRAPH_QUEUE_TIMEOUT_MS: '250',
    });
    expect(config.rateLimit).toMatchObject({
      enabled: false,
      points: 5000,
      anonPoints: 1000,
      mutationPoints: 50,
      windowS: 3600,
      trustedProxies: ['loopback', '10.0.0.0/8'],
      byClient: ['storefront', 'admin'],
    });
    expect(config.subgraphConcurrency).toEqual({ maxInFlight: 32, queueMs: 250, perSubgraph: { reviews: 8 } });
  });
});

describe('usage reporting settings', () => {
  it('off without USAGE_DATABASE_URL or with USAGE_REPORTING=off; the documented defaults otherwise', () => {
    const url = 'postgres://gateway@db:5432/trellis';
    expect(gatewayConfig([], {}).usage).toBeUndefined();
    expect(gatewayConfig([], { USAGE_DATABASE_URL: url, USAGE_REPORTING: 'off' }).usage).toBeUndefined();
    expect(gatewayConfig([], { USAGE_DATABASE_URL: url }).usage).toEqual({
      databaseUrl: url,
      flushIntervalMs: 60_000,
      bucketMs: 3_600_000,
      retentionDays: 30,
      maxEntries: 5000,
      maxSignatureBytes: 8 * 1024 * 1024,
    });
    expect(
      gatewayConfig([], {
        USAGE_DATABASE_URL: url,
        USAGE_FLUSH_INTERVAL_MS: '5000',
        USAGE_BUCKET_MINUTES: '15',
        USAGE_RETENTION_DAYS: '7',
        USAGE_MAX_ENTRIES: '100',
      }).usage,
    ).toMatchObject({ flushIntervalMs: 5000, bucketMs: 900_000, retentionDays: 7, maxEntries: 100 });
  });
});
