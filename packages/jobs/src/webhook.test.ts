// Webhook delivery against a real receiver (the development webhook sink, which verifies the
// signature and drops repeated keys) over real HTTP.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWebhookSink, type WebhookSink } from '@trellis/testing/webhook-sink';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BreakerState,
  createWebhook,
  SIGNATURE_HEADER,
  signWebhookBody,
  verifyWebhookSignature,
  WebhookRejected,
} from './webhook.ts';
import { PermanentJobError } from './worker.ts';

const SECRET = 'test-webhook-secret';
const BREAKER = { errorThresholdPercentage: 50, volumeThreshold: 2, resetTimeout: 60_000 };
let sink: WebhookSink;

beforeAll(async () => {
  sink = await startWebhookSink({ secret: SECRET });
});
afterAll(async () => {
  await sink?.close();
});

describe('webhook signature', () => {
  it('is `sha256=` and the hex HMAC-SHA256 of the body (the wire format receivers check)', () => {
    const body = '{"event":"order.placed"}';
    const hex = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(SIGNATURE_HEADER).toBe('x-trellis-signature');
    expect(signWebhookBody(SECRET, body)).toBe(`sha256=${hex}`);
    expect(verifyWebhookSignature(SECRET, body, `sha256=${hex}`)).toBe(true);
  });

  it('refuses another key, another body, a missing prefix or header, an upper-case digest', () => {
    const body = '{"a":1}';
    const good = signWebhookBody(SECRET, body);
    expect(verifyWebhookSignature('other', body, good)).toBe(false);
    expect(verifyWebhookSignature(SECRET, '{"a":2}', good)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, good.slice('sha256='.length))).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, `sha256=${good.slice(7).toUpperCase()}`)).toBe(false);
  });
});

describe('createWebhook', () => {
  it('delivers the body signed with its idempotency key; the receiver records a repeated key once', async () => {
    const webhook = createWebhook({ url: sink.url, secret: SECRET, timeoutMs: 2000, breaker: BREAKER });
    await webhook.deliver('{"n":1}', 'key-1');
    await webhook.deliver('{"n":1}', 'key-1');
    const delivered = sink.deliveries().filter((d) => d.idempotencyKey === 'key-1');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.body).toEqual({ n: 1 });
    expect(sink.duplicates()).toBeGreaterThanOrEqual(1);
  });

  it('a wrong secret is refused by the receiver (401): a WebhookRejected, permanent', async () => {
    const webhook = createWebhook({ url: sink.url, secret: 'not-the-secret', timeoutMs: 2000, breaker: BREAKER });
    const failure = await webhook.deliver('{"n":2}', 'key-2').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebhookRejected);
    expect(failure).toBeInstanceOf(PermanentJobError);
    expect((failure as Error).message).toContain('HTTP 401');
  });

  it('a 5xx is retryable; enough of them open the breaker, which then fails without a request', async () => {
    sink.setMode({ kind: 'fail', status: 503 });
    try {
      const registry = new Registry();
      const states: BreakerState[] = [];
      const lines: string[] = [];
      const logger = {
        info: (_: object, msg?: string) => lines.push(msg ?? ''),
        warn: (_: object, msg?: string) => lines.push(msg ?? ''),
      };
      const webhook = createWebhook({
        url: sink.url,
        secret: SECRET,
        timeoutMs: 2000,
        breaker: BREAKER,
        name: 'test',
        registry,
        logger,
        onBreakerState: (state) => states.push(state),
      });
      for (const key of ['k-a', 'k-b']) {
        const failure = await webhook.deliver('{}', key).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(Error);
        expect(failure).not.toBeInstanceOf(PermanentJobError);
        expect((failure as Error).message).toBe('webhook answered HTTP 503');
      }
      expect(states).toEqual(['open']);
      expect(lines).toContain('webhook circuit breaker open');
      const metric = await registry.getSingleMetricAsString('trellis_jobs_webhook_breaker_state');
      expect(metric).toContain('Circuit breaker of the test webhook');
      expect(metric).toMatch(/trellis_jobs_webhook_breaker_state 2$/m);
      const before = sink.requests();
      await expect(webhook.deliver('{}', 'k-c')).rejects.toThrow(/open/i);
      expect(sink.requests()).toBe(before);
    } finally {
      sink.setMode({ kind: 'ok' });
    }
  });

  it('a 4xx refusal does not count against the endpoint (the breaker stays closed)', async () => {
    const states: BreakerState[] = [];
    const webhook = createWebhook({
      url: sink.url,
      secret: 'not-the-secret',
      timeoutMs: 2000,
      breaker: BREAKER,
      onBreakerState: (state) => states.push(state),
    });
    for (const key of ['r-1', 'r-2', 'r-3'])
      await expect(webhook.deliver('{}', key)).rejects.toBeInstanceOf(WebhookRejected);
    expect(states).toEqual([]);
  });

  it('a receiver slower than timeoutMs is a retryable failure', async () => {
    const hang = createServer(() => {});
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hang.address() as AddressInfo;
      const webhook = createWebhook({
        url: `http://127.0.0.1:${port}/`,
        secret: SECRET,
        timeoutMs: 200,
        breaker: BREAKER,
      });
      const started = Date.now();
      const failure = await webhook.deliver('{}', 'slow').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(PermanentJobError);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      hang.closeAllConnections();
      await new Promise((resolve) => hang.close(resolve));
    }
  });
});
