// A fail-fast circuit for an optional store on the request path (the response cache's Redis,
// the rate limiter's budgets): a request must never wait on a store that just failed.
//
// Not opossum's breaker (breaker.ts), which opens on a failure rate over a window and suits
// a service whose answers are needed (a subgraph, a webhook). Here one slow call already costs
// a request its bound, so the circuit opens on consecutive failures, counted by episode: calls
// already in flight when a failure was counted fail with it (one stall times out every
// pipelined call at once) and are not further evidence. From the first failure on (suspect,
// not yet open) exactly one probe call goes out at a time and every other call is skipped at
// once: at the onset of an outage only the probe waits out the timeout, not every request in
// flight, episode after episode. A probe that succeeds closes the circuit (every call goes
// out again); `failuresToOpen` failed episodes open it. Open, every call is skipped at once;
// after `openMs` exactly one trial call goes out (the others keep skipping) and its outcome
// closes or re-opens the circuit. A timeout whose timer fired late (`lagged`: the process was
// slow, not the store) fails the call but is no evidence against the store.
//
// Several callers of one store share one circuit (the gateway's Redis): what one learns, the
// others skip at once.
import { TimeoutError, withTimeout } from './timeout.ts';

export interface CircuitOptions {
  /** Bound on every call. @default 50 */
  timeoutMs?: number;
  /** Consecutive failure episodes that open the circuit. @default 3 */
  failuresToOpen?: number;
  /** How long the circuit stays open before one trial call. @default 5000 */
  openMs?: number;
  /** What the timeout message names. @default 'store call' */
  what?: string;
}

/** How a call ended: `skipped` when the circuit did not let it out. */
export type CircuitOutcome = 'ok' | 'skipped' | 'timeout' | 'error';

export type CircuitResult<T> =
  | { outcome: 'ok'; value: T }
  | { outcome: Exclude<CircuitOutcome, 'ok'>; error?: unknown };

export interface Circuit {
  /** How long the circuit stays open before its trial call. */
  readonly openMs: number;
  /**
   * Runs `work` bounded by the timeout, or skips it at once while open, or while suspect or
   * half-open with the probe (trial) out.
   */
  call<T>(work: () => Promise<T>): Promise<CircuitResult<T>>;
  /** Open: calls are skipped until the trial time. */
  isOpen(): boolean;
  /** Open, half-open, a probe out, or the last call failed: a caller skips further optional calls. */
  degraded(): boolean;
  /** Called each time the circuit opens (e.g. drop a connection that swallowed commands). */
  onOpen(listener: () => void): void;
}

export function createCircuit(options: CircuitOptions = {}): Circuit {
  const timeoutMs = options.timeoutMs ?? 50;
  const failuresToOpen = options.failuresToOpen ?? 3;
  const openMs = options.openMs ?? 5000;
  const what = options.what ?? 'store call';
  const listeners: (() => void)[] = [];

  let failures = 0;
  /** When the last counted failure was seen (performance.now()). */
  let lastFailureAt = -1;
  let openUntil = 0;
  /** Suspect or half-open: the one probe (trial) call in flight. */
  let probing = false;
  /** The last call that completed failed (a timeout the process caused aside). */
  let lastFailed = false;
  const isOpen = () => openUntil > Date.now();

  return {
    openMs,
    isOpen,
    degraded: () => isOpen() || probing || lastFailed,
    onOpen: (listener) => void listeners.push(listener),
    async call<T>(work: () => Promise<T>): Promise<CircuitResult<T>> {
      if (isOpen() || probing) return { outcome: 'skipped' };
      // Half-open (open, and its time is up): the trial. Suspect (a failure counted, not yet
      // open): a probe. Either goes out alone; the others skip until it is back.
      const isTrial = openUntil !== 0;
      const isProbe = isTrial || failures > 0;
      if (isProbe) probing = true;
      const startedAt = performance.now();
      try {
        const value = await withTimeout(work, timeoutMs, what);
        failures = 0;
        openUntil = 0;
        lastFailed = false;
        return { outcome: 'ok', value };
      } catch (error) {
        const timeout = error instanceof TimeoutError;
        const evidence = !(timeout && error.lagged);
        if (evidence) lastFailed = true;
        if (evidence && startedAt >= lastFailureAt) {
          failures++;
          lastFailureAt = performance.now();
        }
        // A failed half-open trial opens the circuit again at once.
        if ((failures >= failuresToOpen || (isTrial && evidence)) && !isOpen()) {
          openUntil = Date.now() + openMs;
          for (const listener of listeners) listener();
        }
        return { outcome: timeout ? 'timeout' : 'error', error };
      } finally {
        if (isProbe) probing = false;
      }
    },
  };
}
