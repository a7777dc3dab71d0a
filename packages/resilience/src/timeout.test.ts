// withTimeout: bounds a call, aborts the work, yields to a reply already waiting, flags late timers.
import { describe, expect, it } from 'vitest';
import { TimeoutError, withTimeout } from './timeout.ts';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withTimeout', () => {
  it('passes a value or an error that comes in time', async () => {
    expect(await withTimeout(after(5, 'ok'), 500)).toBe('ok');
    await expect(withTimeout(Promise.reject(new Error('boom')), 500)).rejects.toThrow('boom');
    await expect(
      withTimeout(() => {
        throw new Error('sync');
      }, 500),
    ).rejects.toThrow('sync');
  });

  it('rejects with a TimeoutError naming the call, and aborts the work it was given', async () => {
    let aborted: unknown;
    const error = await withTimeout(
      (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(new Error('cut'));
          });
        }),
      30,
      'publish',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe('publish exceeded 30 ms');
    expect((error as TimeoutError).lagged).toBe(false);
    expect(aborted).toBe(error);
  });

  it('gives way to a reply already waiting when its timer fires', async () => {
    // Both are due at once; the reply's I/O-phase callback runs before the timeout rejects.
    const reply = new Promise<string>((resolve) => setTimeout(() => setImmediate(() => resolve('reply')), 20));
    expect(await withTimeout(reply, 20)).toBe('reply');
  });

  it('marks a timeout whose timer fired late (a blocked loop) as lagged', async () => {
    const pending = withTimeout(new Promise(() => {}), 20).catch((e: unknown) => e);
    const until = performance.now() + 80;
    while (performance.now() < until) {
      // Block the event loop past twice the bound.
    }
    const error = (await pending) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.lagged).toBe(true);
  });
});
