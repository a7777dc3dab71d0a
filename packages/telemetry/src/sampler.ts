// Where a trace may start: at a request the service serves (SERVER) or at a message it
// publishes or consumes (PRODUCER, CONSUMER). Spans that would start a trace of their own
// anywhere else (schema parsing at start-up, migrations, health checks of subgraphs) are
// not recorded, which keeps the trace viewer to requests and jobs.
import { type Attributes, type Context, type Link, SpanKind, trace } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace';

const ROOT_KINDS = new Set([SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER]);

export class EntryPointSampler implements Sampler {
  constructor(private readonly delegate: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (!trace.getSpanContext(context) && !ROOT_KINDS.has(spanKind)) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `EntryPointSampler{${this.delegate.toString()}}`;
  }
}
