// Orders' variables keep their names, defaults and rules now that the kit builds the fields.
import { EnvError } from '@trellis/config';
import { DEV_AUTH } from '@trellis/identity';
import { describe, expect, it } from 'vitest';
import { catalogueEnv, DEV_WEBHOOK, notifyEnv, retryEnv } from './env.ts';

const production = { NODE_ENV: 'production' };

describe('orders env', () => {
  it('catalogue: CATALOGUE_URL, CATALOGUE_TIMEOUT_MS and the signing secret, defaulted in development', () => {
    expect(catalogueEnv({})).toEqual({
      CATALOGUE_URL: 'http://127.0.0.1:4002/graphql',
      CATALOGUE_TIMEOUT_MS: 1500,
      SUBGRAPH_SIGNING_SECRET: DEV_AUTH.subgraphSecret,
    });
    expect(() => catalogueEnv(production)).toThrow(/SUBGRAPH_SIGNING_SECRET/);
    // The API needs nothing of the worker's webhook.
    expect(catalogueEnv({ ...production, SUBGRAPH_SIGNING_SECRET: 's'.repeat(32) }).CATALOGUE_TIMEOUT_MS).toBe(1500);
  });

  it('webhook: NOTIFY_* with the development receiver by default; URL and secret required in production', () => {
    expect(notifyEnv({})).toEqual({
      NOTIFY_WEBHOOK_URL: DEV_WEBHOOK.url,
      NOTIFY_WEBHOOK_SECRET: DEV_WEBHOOK.secret,
      NOTIFY_TIMEOUT_MS: 5000,
      NOTIFY_BREAKER_ERROR_PERCENT: 50,
      NOTIFY_BREAKER_VOLUME: 5,
      NOTIFY_BREAKER_RESET_MS: 30_000,
    });
    expect(() => notifyEnv(production)).toThrow(EnvError);
    expect(() => notifyEnv({ ...production, NOTIFY_WEBHOOK_URL: 'https://hooks.example/x' })).toThrow(
      'NOTIFY_WEBHOOK_SECRET',
    );
  });

  it('retry policies of both queues, all defaulted', () => {
    expect(retryEnv({})).toEqual({
      NOTIFY_RETRY_BASE_MS: 2000,
      NOTIFY_RETRY_MAX_MS: 600_000,
      NOTIFY_ATTEMPTS: 8,
      NOTIFY_EXPIRE_S: 120,
      INVOICE_RETRY_BASE_MS: 2000,
      INVOICE_RETRY_MAX_MS: 120_000,
      INVOICE_ATTEMPTS: 5,
      INVOICE_EXPIRE_S: 120,
    });
    expect(() => retryEnv({ NOTIFY_ATTEMPTS: '0' })).toThrow(/NOTIFY_ATTEMPTS/);
  });
});
