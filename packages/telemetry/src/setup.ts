// Side-effecting entry preloaded by every service (`node --import @trellis/telemetry/setup`)
// before the application is imported: modules loaded before the SDK starts would not be
// instrumented. Starts OpenTelemetry tracing: W3C trace context + baggage, parent-based
// ratio sampling, OTLP/HTTP export behind a bounded batch queue, http and graphql
// instrumentation. Everything is configured by the standard OTEL_* variables (env.ts);
// OTEL_SDK_DISABLED=true leaves the process untouched (the API stays a no-op).

import type { IncomingMessage } from 'node:http';
import { register } from 'node:module';
import { context, createNoopMeter, type Meter, type MeterProvider, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { DEFAULT_SAMPLE_RATIO, serviceNameFromScript, telemetryEnv } from './env.ts';
import { serviceResource } from './resource.ts';
import { EntryPointSampler } from './sampler.ts';
import { recordDroppedSpans, telemetryState } from './state.ts';

/** Paths whose requests never start a trace: probes and scrapes. */
const QUIET_PATHS = /^\/(?:health(?:\/live|\/ready)?|metrics)(?:\?|$)/;

/**
 * The batch processor reports its own health through a MeterProvider
 * (`otel.sdk.processor.span.processed`, with `error.type` for spans that were not exported:
 * `queue_full`, or the export failure). This bridge keeps only those failures, for the
 * Prometheus counter `trellis_otel_dropped_spans_total` (metrics.ts).
 */
function droppedSpansMeterProvider(): MeterProvider {
  const noop = createNoopMeter();
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter(name: string, options?: Parameters<Meter['createCounter']>[1]) {
      if (name !== 'otel.sdk.processor.span.processed') return noop.createCounter(name, options);
      return {
        add(count: number, attributes?: Record<string, unknown>) {
          const reason = attributes?.['error.type'];
          if (reason !== undefined) recordDroppedSpans(String(reason), count);
        },
      };
    },
  });
  return { getMeter: () => meter };
}

function start(): void {
  const env = telemetryEnv();
  if (env.OTEL_SDK_DISABLED === 'true' || telemetryState().started) return;
  telemetryState().started = true;

  // ESM imports (node:http, graphql from ESM code) are only seen through the loader hook;
  // limited to the modules instrumented here so nothing else pays for the wrapping.
  const serviceName = env.OTEL_SERVICE_NAME ?? serviceNameFromScript(process.argv[1]);
  // The gateway does not execute GraphQL itself: @apollo/gateway already spans its phases
  // (request, validate, plan, execute, fetch) through @opentelemetry/api. Wrapping graphql's
  // parse/validate/execute there only adds a fixed cost to every request, sampled or not.
  const executesGraphQL = serviceNameFromScript(process.argv[1]) !== 'gateway';
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: executesGraphQL ? ['http', 'node:http', 'graphql'] : ['http', 'node:http'] },
  });

  const ratio = env.OTEL_TRACES_SAMPLER_ARG ?? DEFAULT_SAMPLE_RATIO;
  const provider = new TracerProvider({
    resource: serviceResource({ script: process.argv[1], serviceName, nodeEnv: env.NODE_ENV }),
    // Without OTEL_TRACES_SAMPLER: parent-based ratio sampling at DEFAULT_SAMPLE_RATIO (or
    // OTEL_TRACES_SAMPLER_ARG), traces starting only at requests and jobs (sampler.ts).
    // With it, the SDK builds exactly the sampler it names.
    ...(env.OTEL_TRACES_SAMPLER
      ? {}
      : {
          sampler: new EntryPointSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })),
        }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ timeoutMillis: env.OTEL_EXPORTER_OTLP_TIMEOUT }),
        maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, env.OTEL_BSP_MAX_QUEUE_SIZE),
        scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
        exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
        selfObsMeterProvider: droppedSpansMeterProvider(),
      }),
    ],
  });
  // What NodeTracerProvider.register() did before SDK 3: async context, W3C propagation.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? ''),
        // Outgoing node:http calls are traced only inside a trace (never the exporter's own).
        requireParentforOutgoingSpans: true,
      }),
      // Low noise: no spans for default (property) resolvers, list items merged, and no
      // resolver spans below depth 3 (e.g. Query.products.edges).
      ...(executesGraphQL
        ? [
            new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true, depth: 3 }),
            // fetch/undici calls (orders → products prices, webhook deliveries) get a CLIENT
            // span and carry `traceparent`, inside a trace only. Not in the gateway: its
            // subgraph data source spans and propagates its own fetches.
            new UndiciInstrumentation({ requireParentforSpans: true }),
          ]
        : []),
    ],
  });

  // Spans still queued are exported on the way out: by the service's signal handler
  // (flushTelemetry, @trellis/http exitOnSignals) or when the event loop empties.
  let shutdown: Promise<void> | undefined;
  telemetryState().shutdown = () => {
    shutdown ??= provider.shutdown().catch(() => {});
    return shutdown as Promise<void>;
  };
  process.once('beforeExit', () => void telemetryState().shutdown?.());
}

start();
