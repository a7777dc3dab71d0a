// In-flight deduplication: identical queries (same body and every header sent, so two
// identities never share an answer) in flight at once share one subgraph request. Entries
// live only while the fetch is in flight. Switched by SUBGRAPH_DEDUP (on by default).
import type { Span } from '@opentelemetry/api';
import type { Settled } from './request.ts';

export interface Shared {
  settled: Promise<Settled>;
  /** The span of the fetch that went out: deduplicated fetches link to it. */
  span: Span;
}

/** The key of a fetch: every header sent (the URL is the data source's) and the body. */
export function dedupeKey(headers: Record<string, string>, body: string): string {
  let key = '';
  for (const header of Object.keys(headers)) key += `${header}:${headers[header]}\n`;
  return key + body;
}

export class InFlightFetches {
  private readonly entries = new Map<string, Shared>();

  get(key: string): Shared | undefined {
    return this.entries.get(key);
  }

  /** Shares `shared` under `key` until it settles, whatever the result. */
  add(key: string, shared: Shared): void {
    this.entries.set(key, shared);
    const forget = () => this.entries.delete(key);
    shared.settled.then(forget, forget);
  }
}
