// For tests: an OpenTelemetry SDK in this process that records every span in memory, with
// the async context manager and W3C propagation the preload would set up.
import { trace } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider.register();
  return { exporter, tracer: trace.getTracer('test'), shutdown: () => provider.shutdown() };
}
