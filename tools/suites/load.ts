// A closed-loop load driver for the suites: `concurrency` clients each send one operation
// at a time (picked in turn from a weighted mix) until the deadline, and every response is
// recorded with its status, error codes and latency, so a suite can assert on each window.
import { performance } from 'node:perf_hooks';

export interface Operation {
  /** The GraphQL operation name (as the gateway's metrics label it). */
  name: string;
  /** Relative share of the mix. @default 1 */
  weight?: number;
  /** The request body and headers for the `n`th send of this operation. */
  request(n: number): { body: unknown; headers?: Record<string, string> };
}

export interface Sample {
  operation: string;
  /** ms since the run started. */
  startedAt: number;
  latencyMs: number;
  /** HTTP status; 0 when the request failed at the transport (refused, reset, timed out). */
  status: number;
  /** `extensions.code` of each error in the body, in order. */
  codes: string[];
  /** Error paths, joined with dots, aligned with `codes`. */
  paths: string[];
  hasData: boolean;
  /** The gateway's `x-cache` header (HIT or MISS) when the response cache applied. */
  cache?: string;
  /** Transport failure, or a body that was not a JSON object. */
  failure?: string;
  body?: unknown;
}

export interface LoadOptions {
  url: string;
  operations: Operation[];
  concurrency: number;
  durationMs: number;
  /** Per-request deadline. @default 10000 */
  timeoutMs?: number;
  /** Keep response bodies on the samples (memory: only for short runs). @default false */
  keepBodies?: boolean;
  /**
   * Target request rate over all clients (a fixed schedule: request i leaves at i/rate s);
   * when the service falls behind, it degrades to a closed loop. @default unpaced
   */
  ratePerSecond?: number;
  /** Stops early when it returns true (checked between requests). */
  stopWhen?: () => boolean;
}

export interface OperationStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Runs the mix until `durationMs` passes; returns every sample. */
export async function runLoad(options: LoadOptions): Promise<Sample[]> {
  const mix = options.operations.flatMap((op) => Array.from({ length: op.weight ?? 1 }, () => op));
  const sent = new Map<string, number>();
  const samples: Sample[] = [];
  const origin = performance.now();
  const deadline = origin + options.durationMs;
  let turn = 0;
  const client = async () => {
    while (performance.now() < deadline && !options.stopWhen?.()) {
      const slot = turn++;
      if (options.ratePerSecond) {
        const wait = origin + (slot * 1000) / options.ratePerSecond - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (performance.now() >= deadline) break;
      }
      const op = mix[slot % mix.length] as Operation;
      const n = sent.get(op.name) ?? 0;
      sent.set(op.name, n + 1);
      samples.push(await send(options, op, n, origin));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return samples;
}

async function send(options: LoadOptions, op: Operation, n: number, origin: number): Promise<Sample> {
  const { body, headers } = op.request(n);
  const started = performance.now();
  const sample: Sample = {
    operation: op.name,
    startedAt: started - origin,
    latencyMs: 0,
    status: 0,
    codes: [],
    paths: [],
    hasData: false,
  };
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    sample.status = response.status;
    sample.cache = response.headers.get('x-cache') ?? undefined;
    const text = await response.text();
    sample.latencyMs = performance.now() - started;
    const parsed = JSON.parse(text) as {
      data?: unknown;
      errors?: { path?: (string | number)[]; extensions?: { code?: string } }[];
    };
    if (typeof parsed !== 'object' || parsed === null) throw new Error(`not a JSON object: ${text.slice(0, 100)}`);
    sample.hasData = parsed.data !== undefined && parsed.data !== null;
    for (const error of parsed.errors ?? []) {
      sample.codes.push(String(error.extensions?.code ?? 'NONE'));
      sample.paths.push((error.path ?? []).join('.'));
    }
    if (options.keepBodies) sample.body = parsed;
  } catch (error) {
    sample.latencyMs = performance.now() - started;
    sample.failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return sample;
}

/** Latency percentile (nearest rank) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Count and latency percentiles per operation. */
export function statsByOperation(samples: readonly Sample[]): Record<string, OperationStats> {
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    const values = groups.get(s.operation) ?? [];
    values.push(s.latencyMs);
    groups.set(s.operation, values);
  }
  return Object.fromEntries(
    [...groups].map(([name, values]) => {
      const sorted = values.sort((a, b) => a - b);
      return [
        name,
        {
          count: sorted.length,
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1] ?? 0,
        },
      ];
    }),
  );
}

/** A one-line summary of a sample for assertion messages. */
export function describeSample(s: Sample): string {
  return `${s.operation} @${Math.round(s.startedAt)}ms status=${s.status} codes=${s.codes.join(',') || '-'}${s.failure ? ` failure=${s.failure}` : ''}`;
}
