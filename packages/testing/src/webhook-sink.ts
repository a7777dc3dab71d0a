// A webhook receiver for development and tests: verifies the HMAC-SHA256 signature
// (`x-trellis-signature: sha256=<hex>` of the raw body), drops a repeated Idempotency-Key
// (answers 200 without recording it again), records each first delivery in memory and, when
// given a file, as one JSON line. GET /deliveries lists them. Its mode makes it fail on
// purpose: `fail` answers 503, `slow` holds each answer for `delayMs`.
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '@trellis/jobs/webhook';

export interface Delivery {
  idempotencyKey: string;
  /** The W3C trace context the delivery carried, if any. */
  traceparent?: string;
  receivedAt: string;
  body: unknown;
}

export type SinkMode = { kind: 'ok' } | { kind: 'fail'; status?: number } | { kind: 'slow'; delayMs: number };

export interface WebhookSink {
  url: string;
  port: number;
  /** First deliveries, in arrival order. */
  deliveries(): Delivery[];
  /** Requests seen (valid or not), repeats included. */
  requests(): number;
  /** Valid repeats of an already recorded key (dropped). */
  duplicates(): number;
  setMode(mode: SinkMode): void;
  /** Resolves when the next request arrives (before it is answered). */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

export interface WebhookSinkOptions {
  secret: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Append each first delivery here as a JSON line. */
  file?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookSink(options: WebhookSinkOptions): Promise<WebhookSink> {
  const recorded: Delivery[] = [];
  const keys = new Set<string>();
  let requests = 0;
  let duplicates = 0;
  let mode: SinkMode = { kind: 'ok' };
  let waiters: (() => void)[] = [];
  if (options.file) mkdirSync(dirname(options.file), { recursive: true });

  const server = createServer(async (req, res) => {
    const send = (status: number, payload: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    if (req.method === 'GET' && req.url === '/deliveries') {
      return send(200, { deliveries: recorded, duplicates, requests });
    }
    if (req.method !== 'POST') return send(404, { error: 'not found' });
    const body = await readBody(req);
    requests++;
    for (const wake of waiters) wake();
    waiters = [];
    const current = mode;
    if (current.kind === 'fail') return send(current.status ?? 503, { error: 'failing on purpose' });
    if (current.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, current.delayMs));
    const signature = req.headers[SIGNATURE_HEADER];
    if (!verifyWebhookSignature(options.secret, body, Array.isArray(signature) ? signature[0] : signature)) {
      return send(401, { error: 'bad signature' });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return send(400, { error: 'Idempotency-Key required' });
    if (keys.has(key)) {
      duplicates++;
      return send(200, { duplicate: true });
    }
    keys.add(key);
    const traceparent = req.headers.traceparent;
    const delivery: Delivery = {
      idempotencyKey: key,
      ...(typeof traceparent === 'string' ? { traceparent } : {}),
      receivedAt: new Date().toISOString(),
      body: JSON.parse(body),
    };
    recorded.push(delivery);
    if (options.file) appendFileSync(options.file, `${JSON.stringify(delivery)}\n`);
    return send(200, { recorded: true });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/orders`,
    port,
    deliveries: () => [...recorded],
    requests: () => requests,
    duplicates: () => duplicates,
    setMode: (next) => {
      mode = next;
    },
    nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
