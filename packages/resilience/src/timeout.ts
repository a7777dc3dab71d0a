// Bounded waits: a promise (or a task given an AbortSignal) raced against a timer.
//
// The timeout gives way to a reply that is already waiting: when the timer fires, the
// rejection waits for the loop's I/O phase (setImmediate runs after it), so a busy process
// whose timers fire late — event-loop lag under load, not a slow peer — does not count a
// reply sitting in the socket as a failure (which would open a circuit and turn, say, a
// saturated gateway's cache hits into misses). A timer that fired later than `ms` past its
// due time marks the timeout `lagged`: the call still fails (the caller is bounded), but it
// is no evidence against the peer.

/** A bounded call that did not settle in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEOUT';

  constructor(
    message: string,
    /** The timer itself fired late by more than the bound: the process, not the peer, was slow. */
    readonly lagged: boolean,
  ) {
    super(message);
  }
}

/**
 * Bounds `work` by `ms`: rejects with a TimeoutError ("`what` exceeded `ms` ms") unless it
 * settles first. Given a function, it is called with an AbortSignal that aborts (reason: the
 * TimeoutError) when the time is up, so the work itself stops (a socket closed, a wait cut).
 */
export function withTimeout<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  ms: number,
  what = 'call',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const controller = typeof work === 'function' ? new AbortController() : undefined;
  const due = performance.now() + ms;
  const expired = new Promise<T>((_, reject) => {
    timer = setTimeout(() => {
      const lagged = performance.now() - due > ms;
      immediate = setImmediate(() => {
        const error = new TimeoutError(`${what} exceeded ${ms} ms`, lagged);
        reject(error);
        controller?.abort(error);
      });
    }, ms);
  });
  let running: Promise<T>;
  try {
    running = typeof work === 'function' ? work((controller as AbortController).signal) : work;
  } catch (error) {
    running = Promise.reject(error);
  }
  return Promise.race([running, expired]).finally(() => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  });
}
