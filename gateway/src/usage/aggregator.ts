// Usage aggregated in memory between flushes: one entry per (time bucket, operation,
// client name, client version) with its request, error and latency-bucket counts, and the
// shape (signature, coordinates) of each operation seen. Bounded: past `maxEntries` entries
// or `maxSignatureBytes` of signature text, new keys are not kept and their requests are
// counted as dropped (existing keys keep counting).
import type { OperationShape } from './operation.ts';
import { LATENCY_BOUNDS_MS } from './schema.ts';

export interface UsageEntry {
  bucket: number;
  hash: string;
  clientName: string;
  clientVersion: string;
  requests: number;
  errors: number;
  latencyMs: number[];
}

export interface UsageBatch {
  entries: UsageEntry[];
  operations: Map<string, OperationShape & { firstSeen: number; lastSeen: number }>;
}

export interface AggregatorOptions {
  /** Length of a stored time bucket. @default 3_600_000 (an hour) */
  bucketMs: number;
  /** Distinct (bucket, operation, client, version) keys held between flushes. @default 5000 */
  maxEntries: number;
  /** Signature text held between flushes. @default 8 MiB */
  maxSignatureBytes: number;
}

export interface RecordedRequest {
  shape: OperationShape;
  clientName: string | null;
  clientVersion: string | null;
  errors: boolean;
  durationMs: number;
  at: number;
}

export class UsageAggregator {
  private entries = new Map<string, UsageEntry>();
  private operations: UsageBatch['operations'] = new Map();
  private signatureBytes = 0;

  constructor(private readonly options: AggregatorOptions) {}

  /** Adds one request; false when it was dropped because the bounds are reached. */
  add(request: RecordedRequest): boolean {
    const { shape } = request;
    const bucket = request.at - (request.at % this.options.bucketMs);
    const clientName = request.clientName ?? '';
    const clientVersion = request.clientName === null ? '' : (request.clientVersion ?? '');
    const key = `${bucket}\n${shape.hash}\n${clientName}\n${clientVersion}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const known = this.operations.get(shape.hash);
      const bytes = known ? 0 : shape.signature.length + shape.coordinates.reduce((n, c) => n + c.length, 0);
      if (this.entries.size >= this.options.maxEntries || this.signatureBytes + bytes > this.options.maxSignatureBytes)
        return false;
      entry = {
        bucket,
        hash: shape.hash,
        clientName,
        clientVersion,
        requests: 0,
        errors: 0,
        latencyMs: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
      };
      this.entries.set(key, entry);
      if (!known) {
        this.operations.set(shape.hash, { ...shape, firstSeen: request.at, lastSeen: request.at });
        this.signatureBytes += bytes;
      }
    }
    const operation = this.operations.get(shape.hash)!;
    if (request.at > operation.lastSeen) operation.lastSeen = request.at;
    entry.requests++;
    if (request.errors) entry.errors++;
    let slot = 0;
    while (slot < LATENCY_BOUNDS_MS.length && request.durationMs > (LATENCY_BOUNDS_MS[slot] ?? 0)) slot++;
    entry.latencyMs[slot] = (entry.latencyMs[slot] ?? 0) + 1;
    return true;
  }

  /** Distinct keys held now. */
  get size(): number {
    return this.entries.size;
  }

  /** No new key fits (known keys still count). */
  get full(): boolean {
    return this.entries.size >= this.options.maxEntries;
  }

  /** Hands over everything held and starts empty. */
  drain(): UsageBatch {
    const batch = { entries: [...this.entries.values()], operations: this.operations };
    this.entries = new Map();
    this.operations = new Map();
    this.signatureBytes = 0;
    return batch;
  }
}
