import { EnvError, parseEnv } from '@trellis/config';
import { DEFAULT_JOBS_POOL_MAX } from '@trellis/jobs/pool';
import { describe, expect, it } from 'vitest';
import {
  lazily,
  queueRetryFields,
  queueRetrySettings,
  secretField,
  subgraphClientFields,
  webhookFields,
  webhookSettings,
  workerEnv,
} from './env.ts';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('workerEnv', () => {
  it('sizes the handlers pool from DB_POOL_MAX (8 by default)', () => {
    expect(workerEnv(4105, base).DB_POOL_MAX).toBe(8);
    expect(workerEnv(4105, { ...base, DB_POOL_MAX: '3' }).DB_POOL_MAX).toBe(3);
  });

  it("caps pg-boss's own pool at JOBS_POOL_MAX (DEFAULT_JOBS_POOL_MAX = 5 by default), whatever the concurrency", () => {
    expect(DEFAULT_JOBS_POOL_MAX).toBe(5);
    expect(workerEnv(4105, base).JOBS_POOL_MAX).toBe(DEFAULT_JOBS_POOL_MAX);
    expect(workerEnv(4105, { ...base, JOBS_POOL_MAX: '2' }).JOBS_POOL_MAX).toBe(2);
  });
});

describe('env field helpers', () => {
  const production = { NODE_ENV: 'production' };

  it('secretField: defaulted in development, required with ≥ 32 characters in production', () => {
    expect(parseEnv({ S: secretField(false, 'dev-secret') }, {}).S).toBe('dev-secret');
    expect(() => parseEnv({ S: secretField(true, 'dev-secret') }, production)).toThrow(EnvError);
    expect(() => parseEnv({ S: secretField(true, 'dev-secret') }, { S: 'short' })).toThrow(
      'S must be at least 32 characters',
    );
    expect(parseEnv({ S: secretField(true, 'x') }, { S: 'k'.repeat(32) }).S).toBe('k'.repeat(32));
  });

  it('subgraphClientFields: <P>_URL and <P>_TIMEOUT_MS (50–30,000) with the given defaults', () => {
    const fields = subgraphClientFields('PEER', { url: 'http://127.0.0.1:4002/graphql', timeoutMs: 1500 });
    expect(parseEnv(fields, {})).toEqual({ PEER_URL: 'http://127.0.0.1:4002/graphql', PEER_TIMEOUT_MS: 1500 });
    expect(() => parseEnv(fields, { PEER_TIMEOUT_MS: '10' })).toThrow(/PEER_TIMEOUT_MS/);
    expect(() => parseEnv(fields, { PEER_URL: 'not a url' })).toThrow(/PEER_URL/);
  });

  it("webhookFields → webhookSettings: createWebhook's options, URL and secret required in production", () => {
    const dev = { url: 'http://127.0.0.1:4199/hooks', secret: 'dev-hook-secret' };
    const env = parseEnv(webhookFields('HOOK', { production: false, dev }), { HOOK_BREAKER_VOLUME: '2' });
    expect(webhookSettings(env, 'HOOK')).toEqual({
      url: dev.url,
      secret: dev.secret,
      timeoutMs: 5000,
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 2, resetTimeout: 30_000 },
    });
    expect(() => parseEnv(webhookFields('HOOK', { production: true, dev }), production)).toThrow(
      'HOOK_WEBHOOK_URL is required',
    );
  });

  it("queueRetryFields → queueRetrySettings: defineQueue's retry and expiry, overridable", () => {
    const defaults = { baseDelayMs: 2000, maxDelayMs: 60_000, attempts: 5, expireInSeconds: 120 };
    const env = parseEnv(queueRetryFields('MAIL', defaults), { MAIL_ATTEMPTS: '3' });
    expect(queueRetrySettings(env, 'MAIL')).toEqual({
      retry: { attempts: 3, baseDelayMs: 2000, maxDelayMs: 60_000 },
      expireInSeconds: 120,
    });
    expect(() => parseEnv(queueRetryFields('MAIL', defaults), { MAIL_ATTEMPTS: '51' })).toThrow(/MAIL_ATTEMPTS/);
  });

  it('lazily: loads on first use, once', () => {
    let loads = 0;
    const settings = lazily(() => ({ n: ++loads }));
    expect(loads).toBe(0);
    expect(settings()).toBe(settings());
    expect(loads).toBe(1);
  });
});
