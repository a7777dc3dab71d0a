// readBody over real HTTP: bodies in many chunks (a character split between two), the limit
// declared or streamed, and a client that hangs up mid-body (rejects, never hangs).
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLarge, readBody } from './index.ts';

describe('readBody', () => {
  let server: Server;
  let port: number;
  const outcomes: Promise<string>[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const outcome = readBody(req, 64);
      outcomes.push(outcome);
      outcome.then(
        (text) => res.end(JSON.stringify({ text })),
        (error: unknown) => {
          if (!res.destroyed) res.end(JSON.stringify({ error: error instanceof BodyTooLarge ? 'too large' : 'other' }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** POSTs `chunks` (chunked transfer, each written separately), or `declared` as Content-Length. */
  const send = (chunks: Buffer[], declared?: number) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        {
          port,
          agent: false,
          method: 'POST',
          headers: declared === undefined ? {} : { 'content-length': String(declared) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });

  it('assembles a body sent in chunks, a character split between two', async () => {
    const bytes = Buffer.from('{"q":"héllo wörld"}');
    const split = bytes.indexOf(Buffer.from('é')) + 1;
    expect(JSON.parse(await send([bytes.subarray(0, split), bytes.subarray(split)]))).toEqual({
      text: '{"q":"héllo wörld"}',
    });
    expect(JSON.parse(await send([]))).toEqual({ text: '' });
  });

  it('refuses a body declared over the limit before reading it', async () => {
    expect(JSON.parse(await send([Buffer.alloc(10, 'a')], 65).catch(() => '{"error":"reset"}'))).toEqual({
      error: 'too large',
    });
  });

  it('refuses a streamed body once it passes the limit (the rest is not read)', async () => {
    const before = outcomes.length;
    await send([Buffer.alloc(40, 'a'), Buffer.alloc(40, 'b')]).catch(() => undefined);
    await expect.poll(() => outcomes.length).toBe(before + 1);
    await expect(outcomes[before]).rejects.toBeInstanceOf(BodyTooLarge);
  });

  it('rejects (never hangs) when the client hangs up mid-body', async () => {
    const before = outcomes.length;
    const req = request({ port, agent: false, method: 'POST', headers: { 'content-length': '50' } });
    req.on('error', () => {});
    req.write('{"partial":');
    await expect.poll(() => outcomes.length).toBe(before + 1);
    req.destroy();
    await expect(outcomes[before]).rejects.toThrow();
  });
});
