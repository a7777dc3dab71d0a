// The gateway's environment (env.ts): defaults and validation of the browser-facing settings.
import { DEV_CORS_ORIGINS } from '@trellis/http';
import { describe, expect, it } from 'vitest';
import { gatewayConfig } from '../src/env.ts';

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
