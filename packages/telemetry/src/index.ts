// Structured logging shared by every service, and the active trace's ids for logs and
// masked errors. The OpenTelemetry SDK starts in the side-effecting `./setup` (preloaded
// with `node --import`); this module only uses @opentelemetry/api, a no-op without it.
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, pino } from 'pino';
import { telemetryState } from './state.ts';

export type { Logger };

export interface TraceIds {
  trace_id: string;
  span_id: string;
}

/** Ids of the active span (the request's, inside a request), or undefined outside any trace. */
export function activeTraceIds(): TraceIds | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return undefined;
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** The active trace id, for "Internal server error" responses an operator can look up. */
export function activeTraceId(): string | undefined {
  return activeTraceIds()?.trace_id;
}

export interface LoggerOptions {
  /** `service` key on every line. */
  service: string;
  /** @default 'info' */
  level?: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * Exports the spans still queued and stops the SDK, waiting at most `timeoutMs` (an
 * unreachable collector must not hold up a shutdown). A no-op without the SDK.
 */
export async function flushTelemetry(timeoutMs = 2000): Promise<void> {
  const shutdown = telemetryState().shutdown;
  if (!shutdown) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    shutdown(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * JSON lines with stable keys: `time`, `level`, `service`, `msg`, and `trace_id`/`span_id`
 * of the active span when there is one (a line may also pass its own). Secrets are redacted.
 */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => activeTraceIds() ?? {},
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'email',
        '*.email',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'req.headers.authorization',
        'databaseUrl',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
