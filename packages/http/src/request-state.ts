// Per-request state kept on the request object itself, under a private Symbol: a cached hit
// reads and writes several such values, and a WeakMap entry per request showed in its profile.
import type { IncomingMessage } from 'node:http';

export interface RequestState<T> {
  get(req: IncomingMessage): T | undefined;
  set(req: IncomingMessage, value: T): void;
}

/** A slot for one kind of per-request value; `name` labels the Symbol (debuggers show it). */
export function requestState<T>(name: string): RequestState<T> {
  const key = Symbol(name);
  type Holder = IncomingMessage & { [key]?: T };
  return {
    get: (req) => (req as Holder)[key],
    set: (req, value) => {
      (req as Holder)[key] = value;
    },
  };
}
