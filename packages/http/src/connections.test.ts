// createBoundedServer over real sockets: clients stalled mid-request are cut off within the
// bound with a typed 408, and a wave of them is answered paced, not in one event-loop block.
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBoundedServer,
  DEFAULT_CONNECTION_LIMITS,
  TIMEOUT_ANSWERS_PER_TICK,
  TIMEOUT_TICK_MS,
} from './connections.ts';

const HEADERS_TIMEOUT_MS = 300;
const server = createBoundedServer(
  { ...DEFAULT_CONNECTION_LIMITS, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: 600 },
  (_req, res) => res.end('ok'),
);
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Opens a connection, sends half a request head and waits for the server to close it. */
function stall(): Promise<{ text: string; closedAt: number; openedAt: number }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const openedAt = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n'));
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closedAt: performance.now(), openedAt }));
  });
}

describe('stalled clients', () => {
  it('a wave of stalled clients each gets a typed 408 within the bound, answered paced across ticks', async () => {
    const count = 6 * TIMEOUT_ANSWERS_PER_TICK;
    const results = await Promise.all(Array.from({ length: count }, stall));
    for (const { text, closedAt, openedAt } of results) {
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(text).toContain('content-type: application/json');
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
        errors: [{ message: 'Request was not received in time', extensions: { code: 'BAD_REQUEST' } }],
      });
      // The header timeout, Node's check (every second at most, here every 300 ms) and slack.
      expect(closedAt - openedAt).toBeLessThan(HEADERS_TIMEOUT_MS * 2 + 1000);
    }
    // All expired in one check; answered 16 a tick, 5 ms apart: six ticks span ~25 ms (20 ms
    // allows a tick of timer jitter), where answering all at once closed them within 1 ms.
    const closes = results.map((r) => r.closedAt);
    expect(Math.max(...closes) - Math.min(...closes)).toBeGreaterThanOrEqual(4 * TIMEOUT_TICK_MS);
  });

  it('a client that finishes its request in time is served', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('ok');
  });
});
