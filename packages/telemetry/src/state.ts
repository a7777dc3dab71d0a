// Process-wide telemetry state shared by the preloaded setup and the service code. Kept on
// globalThis because the setup may be a separate copy of this module (the gateway's build
// bundles workspace code, the preload is loaded on its own).
const KEY = Symbol.for('trellis.telemetry.state');

export interface TelemetryState {
  /** True once the OpenTelemetry SDK started in this process. */
  started: boolean;
  /** Spans the SDK never exported, by reason (`queue_full`, or the export error's name). */
  droppedSpans: Map<string, number>;
  /** Exports what is queued and stops the SDK (set by the setup). */
  shutdown?: () => Promise<void>;
}

export function telemetryState(): TelemetryState {
  const holder = globalThis as { [KEY]?: TelemetryState };
  holder[KEY] ??= { started: false, droppedSpans: new Map() };
  return holder[KEY];
}

/** Adds `count` dropped spans for `reason`. */
export function recordDroppedSpans(reason: string, count: number): void {
  const dropped = telemetryState().droppedSpans;
  dropped.set(reason, (dropped.get(reason) ?? 0) + count);
}
