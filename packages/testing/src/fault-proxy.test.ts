// The fault proxy against a TCP echo server: pass, latency, reset and blackhole.
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

let echo: Server | undefined;
let proxy: FaultProxy | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy?.close();
  if (echo) {
    echo.close();
    (echo as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  }
});

async function start(): Promise<FaultProxy> {
  echo = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo?.listen(0, '127.0.0.1', resolve));
  const { port } = echo.address() as AddressInfo;
  proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
  return proxy;
}

async function open(target: FaultProxy): Promise<Socket> {
  const socket = connect(target.port, '127.0.0.1');
  clients.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** The next data on the socket, or what ended it, within `ms`. */
function next(socket: Socket, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done('silence'), ms);
    const done = (what: string) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(what);
    };
    const onData = (chunk: Buffer) => done(`data:${chunk}`);
    const onError = (error: NodeJS.ErrnoException) => done(`error:${error.code}`);
    const onClose = () => done('closed');
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

describe('startFaultProxy', () => {
  it('passes bytes both ways, and delays them in latency mode', async () => {
    const target = await start();
    const socket = await open(target);
    socket.write('ping');
    expect(await next(socket)).toBe('data:ping');

    target.setMode('latency', { latencyMs: 80 });
    const started = performance.now();
    socket.write('slow');
    expect(await next(socket)).toBe('data:slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(target.connections).toBe(1);
  });

  it('resets open and new connections in reset mode', async () => {
    const target = await start();
    const socket = await open(target);
    const ended = next(socket);
    target.setMode('reset');
    expect(await ended).toBe('error:ECONNRESET');

    const fresh = connect(target.port, '127.0.0.1');
    clients.push(fresh);
    expect(await next(fresh)).toBe('error:ECONNRESET');
  });

  it('accepts and never answers in blackhole mode', async () => {
    const target = await start();
    target.setMode('blackhole');
    const socket = await open(target);
    socket.write('anyone?');
    expect(await next(socket, 200)).toBe('silence');
    expect(socket.destroyed).toBe(false);
  });
});
