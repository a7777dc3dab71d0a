// A TCP proxy for tests that puts faults between client and server: latency, resets (RST), a blackhole.
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

/**
 * - `pass`: bytes flow both ways untouched.
 * - `latency`: every chunk, in both directions, is delayed by `latencyMs` (order kept).
 * - `reset`: new connections are reset on accept and open ones are reset now (TCP RST).
 * - `blackhole`: connections are accepted and kept open; nothing is forwarded or answered.
 *
 * A mode applies to open connections from the next chunk on, so pooled keep-alive
 * connections see it too.
 */
export type FaultMode = 'pass' | 'latency' | 'reset' | 'blackhole';

export interface FaultProxyOptions {
  target: { host: string; port: number };
  /** Listen address. @default '127.0.0.1' */
  host?: string;
  /** @default 'pass' */
  mode?: FaultMode;
  /** @default 100 */
  latencyMs?: number;
}

export interface FaultProxy {
  port: number;
  /** `http://host:port` + path. @default path '/graphql' */
  url(path?: string): string;
  setMode(mode: FaultMode, options?: { latencyMs?: number }): void;
  readonly mode: FaultMode;
  /** Client connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** One direction of a proxied connection; keeps chunk order when latency is switched on or off. */
class Lane {
  private pending = 0;
  private lastDue = 0;
  constructor(
    private readonly timers: Set<NodeJS.Timeout>,
    private readonly deliver: (chunk: Buffer) => void,
  ) {}

  send(chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && this.pending === 0) {
      this.deliver(chunk);
      return;
    }
    // Never overtake a chunk still waiting: due no earlier than the previous one.
    const due = Math.max(performance.now() + delayMs, this.lastDue);
    this.lastDue = due;
    this.pending++;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.pending--;
        this.deliver(chunk);
      },
      Math.max(0, due - performance.now()),
    );
    this.timers.add(timer);
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  let mode: FaultMode = options.mode ?? 'pass';
  let latencyMs = options.latencyMs ?? 100;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const track = (socket: Socket) => {
    sockets.add(socket);
    // Peers vanish mid-test on purpose: a socket error is an expected event, not a crash.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };

  const server = createServer((client) => {
    accepted++;
    track(client);
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    clients.add(client);
    let upstream: Socket | undefined;
    const toClient = new Lane(timers, (chunk) => {
      if (!client.destroyed) client.write(chunk);
    });
    const toUpstream = new Lane(timers, (chunk) => {
      if (client.destroyed) return;
      // Connected on first forwarded byte, so a blackholed client never reaches the target.
      if (!upstream) {
        upstream = createConnection(options.target);
        track(upstream);
        upstream.on('data', (data: Buffer) => route(data, toClient));
        upstream.on('close', () => client.destroy());
      }
      upstream.write(chunk);
    });
    const route = (chunk: Buffer, lane: Lane) => {
      switch (mode) {
        case 'pass':
          lane.send(chunk, 0);
          return;
        case 'latency':
          lane.send(chunk, latencyMs);
          return;
        case 'blackhole':
          return;
        case 'reset':
          client.resetAndDestroy();
          upstream?.destroy();
          return;
      }
    };
    client.on('data', (chunk: Buffer) => route(chunk, toUpstream));
    client.on('close', () => {
      clients.delete(client);
      upstream?.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: (path = '/graphql') => `http://${host}:${port}${path}`,
    get mode() {
      return mode;
    },
    get connections() {
      return accepted;
    },
    setMode(next, modeOptions = {}) {
      mode = next;
      if (modeOptions.latencyMs !== undefined) latencyMs = modeOptions.latencyMs;
      if (next === 'reset') {
        for (const client of clients) client.resetAndDestroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
