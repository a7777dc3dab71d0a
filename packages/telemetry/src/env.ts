// The telemetry environment: the standard OpenTelemetry variables the setup reads itself.
// Exporter endpoint, headers and timeouts (OTEL_EXPORTER_OTLP_*) and the batch processor's
// OTEL_BSP_* are read by the SDK; they are validated here so a typo stops the service.
import { loadEnv, z } from '@trellis/config';

/** Default head sampling: 5 % of new traces; a parent's decision (sampled or not) is followed. */
export const DEFAULT_SAMPLE_RATIO = 0.05;

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const positive = z.coerce.number({ message: 'must be a number' }).int().min(1);

export function telemetryEnv(source: Record<string, string | undefined> = process.env) {
  return loadEnv(
    {
      OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
      /** `deployment.environment.name` of every span unless OTEL_RESOURCE_ATTRIBUTES sets one. */
      NODE_ENV: z.string().min(1).optional(),
      OTEL_SERVICE_NAME: z.string().optional(),
      OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).optional(),
      OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ message: 'must be a number' }).min(0).max(1).optional(),
      OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ message: 'must be a URL' }).optional(),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ message: 'must be a URL' }).optional(),
      /** Spans held for export; beyond it new spans are dropped (and counted). */
      OTEL_BSP_MAX_QUEUE_SIZE: positive.default(2048),
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: positive.default(512),
      OTEL_BSP_SCHEDULE_DELAY: positive.default(1000),
      /** An export that has not finished by then is abandoned (its spans count as dropped). */
      OTEL_BSP_EXPORT_TIMEOUT: positive.default(10_000),
      /** The exporter's own HTTP deadline. */
      OTEL_EXPORTER_OTLP_TIMEOUT: positive.default(5_000),
    },
    source,
  );
}
export type TelemetryEnv = ReturnType<typeof telemetryEnv>;

/**
 * `service.name` when OTEL_SERVICE_NAME is unset, from the entry script:
 * `subgraphs/<domain>/src/main.ts` → `<domain>`, `…/worker.ts` → `<domain>-worker`,
 * anything under `gateway/` → `gateway`.
 */
export function serviceNameFromScript(script: string | undefined): string {
  const path = (script ?? '').replaceAll('\\', '/');
  const subgraph = /subgraphs\/([^/]+)\/(?:src|dist)\/(\w+)/.exec(path);
  if (subgraph) return subgraph[2] === 'worker' ? `${subgraph[1]}-worker` : (subgraph[1] as string);
  if (/(?:^|\/)gateway\//.test(path)) return 'gateway';
  return 'trellis';
}
