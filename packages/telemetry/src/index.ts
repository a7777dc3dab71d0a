// Structured logging shared by every service. The OpenTelemetry setup will live on its own
// side-effecting subpath (`./setup`) so that importing the logger never starts an SDK.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** `service` key on every line. */
  service: string;
  /** @default 'info' */
  level?: string;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/** JSON lines with stable keys: `time`, `level`, `service`, `msg`. Secrets are redacted. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
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
