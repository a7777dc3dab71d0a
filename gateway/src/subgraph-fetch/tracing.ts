// Fetch spans: one CLIENT span per fetch, under the gateway's own fetch span; the subgraph's
// server span continues it through the injected traceparent. In a trace that is not sampled
// the (non-recording) parent is propagated as is: same trace id and decision, no span.
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FetchOutcome } from './errors.ts';

const tracer = trace.getTracer('@trellis/gateway');

export interface FetchSpan {
  span: Span;
  /** Whether `span` is this fetch's own (false: the parent's, propagated as is). */
  own: boolean;
}

export function startFetchSpan(subgraph: string, target: URL, url: string, operationName?: string | null): FetchSpan {
  const parent = trace.getActiveSpan();
  if (parent && !parent.isRecording()) return { span: parent, own: false };
  const span = tracer.startSpan(`fetch ${subgraph}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'trellis.subgraph': subgraph,
      'server.address': target.hostname,
      'url.full': url,
      ...(operationName ? { 'graphql.operation.name': operationName } : {}),
    },
  });
  return { span, own: true };
}

/** The headers sent: trace context added (after the deduplication key is taken). */
export function tracedHeaders(span: Span, headers: Record<string, string>): Record<string, string> {
  const sent = { ...headers };
  propagation.inject(trace.setSpan(context.active(), span), sent);
  return sent;
}

export function endFetchSpan({ span, own }: FetchSpan, outcome: FetchOutcome): void {
  if (!own) return;
  span.setAttribute('trellis.fetch.outcome', outcome);
  if (outcome !== 'ok' && outcome !== 'deduplicated') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}
