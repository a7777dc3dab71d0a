// Whole-response caching at the gateway, driven by the merged cache hints.
//
// Two halves around Apollo's pipeline:
// - the front (`front.serve`, called by @trellis/http before Apollo): keys the request,
//   looks it up, and on a hit writes the stored response bytes itself — no parse, no
//   validation, no plan, no plugins. Hits are what the cache is for; going through Apollo's
//   pipeline (as @apollo/server-plugin-response-cache does) capped them at a fifth of the
//   cost of the bytes alone (docs/benchmarks.md, "cache").
// - the plugin (Apollo, `willSendResponse`) decides whether a miss may be stored: a query,
//   no errors, data, a cacheable merged policy (most restrictive hint of every fetch). The
//   front stores Apollo's complete response string (`front.complete`), so a hit is byte for
//   byte the answer a miss sent.
//
// Keys: the request (document, operation name, variables, extensions, Accept), the loaded
// supergraph and the answer-shaping configuration (`generation`), and the scope:
// - anonymous requests share PUBLIC entries among themselves;
// - authenticated requests look up their own PRIVATE entry (user id + scopes), then the
//   PUBLIC entry of their scope set; a PUBLIC answer computed for one scope set is never
//   served to another, so cached answers cannot skip @requiresScopes;
// - a PRIVATE answer to an anonymous request is never stored.
// A client's `Cache-Control: no-cache` skips the read (the fresh answer is stored),
// `no-store` skips both; other client directives are ignored. Responses that went through
// the cache say so: `x-cache: HIT|MISS` and `age`.
//
// Every stored entry is tagged with the entities its subgraphs reported
// (subgraph-fetch/entity-tags.ts moves them into `cacheTags`, tags as @trellis/cache/tags
// defines them); `invalidate()` drops the entries holding an entity or a type. An
// answer computed before an invalidation of one of its entities arrived is not stored, so a
// read racing a write cannot put the old state back after the purge.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { CacheStore } from '@trellis/cache';
import type { InvalidationBatch } from '@trellis/cache/invalidation';
import { tagsToPurge } from '@trellis/cache/tags';
import {
  type FrontRequest,
  type GraphQLFront,
  type GraphQLMetrics,
  readClientIdentity,
  requestLogFields,
  requestState,
} from '@trellis/http';
import type { Viewer } from '@trellis/identity';
import { batchedCounter, registeredMetric } from '@trellis/telemetry/metrics';
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import type { GatewayContext } from './identity.ts';

/** Where an invalidation came from (metric label). */
export type InvalidationSource = 'pubsub' | 'outbox' | 'admin';

/** Per-request state between the front and the plugin (GatewayContext.cacheSlot). */
export interface CacheSlot {
  /** Where this request's answer is stored, by the scope of the answer's policy. */
  keys: { public: string; private: string | undefined };
  /** Wall-clock start (ms), compared with invalidation times. */
  startedAt: number;
  /** The client sent no-cache or no-store: the read was skipped. */
  bypass: boolean;
  /** The client sent no-store: the answer is not stored either. */
  noStore: boolean;
  /** The key this request computes for requests waiting on it (it leads them). */
  leads?: string;
  /** Resolves the requests waiting on this one (it computes an answer they also asked for). */
  release?: (stored: Stored | undefined) => void;
  /** Set by the plugin when the answer may be stored. */
  decision?: { key: string; maxAge: number; scope: 'PUBLIC' | 'PRIVATE'; operation: string | null; tags: string[] };
}

/** An entry as written, handed to the requests that waited for it. */
interface Stored {
  key: string;
  entry: string;
}

export interface ResponseCache {
  front: GraphQLFront;
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** The front's state for a request (the context factory puts it in the context). */
  slotOf(req: IncomingMessage): CacheSlot | undefined;
  /**
   * Drops every entry holding one of the batch's entities or types; resolves to the entries
   * deleted, or undefined when the store could not apply it (an outage: the caller retries).
   */
  invalidate(batch: InvalidationBatch, source: InvalidationSource): Promise<number | undefined>;
}

export interface ResponseCacheOptions {
  store: CacheStore;
  registry: Registry;
  metrics: GraphQLMetrics;
  /** The request's verified viewer (rejects on a bad token: the request then goes to Apollo for its typed 401). */
  identify: (req: IncomingMessage) => Promise<Viewer>;
  /** Changes whenever answers may change shape: the loaded supergraph and the configuration that shapes answers. */
  generation: () => string;
}

/**
 * Bytes of encoded bodies kept per process. A stored entry is a string (Apollo's
 * KeyValueCache); writing a string response allocates and encodes a new buffer on every
 * hit — for the benchmark's 87 KB answer that allocation was most of a hit's cost (a
 * profile showed `writev` at a third of the gateway's CPU). The memo only ever serves the
 * version of an entry the store just returned, so it never outlives an invalidation.
 */
const ENCODED_MEMO_BYTES = 32 * 1024 * 1024;

/**
 * The request digest memoised on the body's memo (FrontRequest.memo: shared by every repeat
 * of a body text the HTTP front has vetted): re-serialising and hashing the request was a
 * tenth of a hit's own CPU, and a memo of our own keyed by the text was one more lookup of it.
 */
const DIGEST = Symbol('trellis.responseCache.digest');
interface DigestMemo {
  generation: string;
  accept: string;
  digest: string | null;
}

/** Bytes read to get an entry's header line (its headers and stamps; bodies follow it). */
const HEAD_BYTES = 1024;

/**
 * How long identical requests wait for the one already computing their answer (a cold key
 * under load — a deploy, a purge, an expiry — costs one execution instead of one per
 * connection, the stampede that drove the event loop past every cache timeout).
 */
const FOLLOW_MS = 2000;

/** How long a key whose answer could not be stored is not coalesced. */
const UNCACHEABLE_MS = 10_000;

/** How long an invalidation is remembered against in-flight answers (longer than any request). */
const REMEMBER_MS = 60_000;

/** Response headers that belong to one response, not to the stored answer. */
const PER_RESPONSE = new Set([
  'age',
  'x-cache',
  'cache-control',
  'content-length',
  'date',
  'set-cookie',
  'x-request-id',
  // The client's budget at the time of this response (rate-limit-http.ts).
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
]);

/** Content types a browser sends without a CORS preflight (Apollo's CSRF prevention rule). */
const SIMPLE_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

/** What the front stores in front of the body: one JSON line. */
interface EntryMeta {
  /** Stored at (ms). */
  t: number;
  /** Nonce: with `t`, names this version of the entry (the served-version memo compares the whole header line). */
  n: string;
  /** max-age (s). */
  m: number;
  /** Scope. */
  s: 'PUBLIC' | 'PRIVATE';
  /** Operation name (metrics, access log). */
  o: string | null;
  /** Response headers (content type…). */
  h: [string, string][];
}

/**
 * One version of one entry as this process serves it: its header line (which names the
 * version: time and nonce), that line parsed, its Cache-Control value and its encoded body.
 */
interface Served {
  line: string;
  meta: EntryMeta;
  cacheControl: string;
  bytes: Buffer;
}

/** Whether `text` (an entry, or the first bytes of one) starts with the header line `line`. */
const headedBy = (text: string, line: string) =>
  text.length > line.length && text.charCodeAt(line.length) === 10 && text.startsWith(line);

/** An entry's header line parsed, or undefined when it is not one. */
function parseMeta(line: string): EntryMeta | undefined {
  try {
    return JSON.parse(line) as EntryMeta;
  } catch {
    return undefined;
  }
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

const counter = <T extends string>(registry: Registry, name: string, help: string, labelNames: T[]) =>
  registeredMetric(registry, name, () => new Counter<T>({ name, help, labelNames, registers: [registry] }));

/** A request Apollo's CSRF prevention lets through (non-simple content type or a preflight header). */
function preflighted(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type?.startsWith('application/json')) return true;
  if (type !== undefined && !SIMPLE_TYPES.has((type.split(';')[0] ?? '').trim().toLowerCase())) return true;
  return Boolean(req.headers['x-apollo-operation-name'] || req.headers['apollo-require-preflight']);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Surely a mutation (never cached, so never looked up: no store round trip, nor a timeout at
 * the onset of a cache outage). A document that starts with `mutation`, or holds `mutation
 * <operationName>`; anything else is looked up as before (a wrong "maybe" only costs a miss).
 */
function isMutation(query: string, operationName: string | null | undefined): boolean {
  const start = query.replace(/^(?:\s|,|#[^\n]*\n?)*/, '');
  if (!operationName) return /^mutation\b/.test(start);
  return /^[_A-Za-z][_0-9A-Za-z]*$/.test(operationName) && new RegExp(`\\bmutation\\s+${operationName}\\b`).test(query);
}

/** The fields of a GraphQL request that make its answer, or undefined when Apollo must judge it. */
function requestFields(request: FrontRequest): unknown[] | undefined {
  let fields: Record<string, unknown>;
  if (request.method === 'POST') {
    if (!isRecord(request.body)) return undefined;
    fields = request.body;
  } else {
    const params = new URLSearchParams(request.search);
    fields = { query: params.get('query') ?? undefined, operationName: params.get('operationName') ?? undefined };
    try {
      for (const name of ['variables', 'extensions']) {
        const value = params.get(name);
        if (value !== null) fields[name] = JSON.parse(value);
      }
    } catch {
      return undefined;
    }
  }
  const { query, operationName, variables, extensions } = fields;
  if (query !== undefined && typeof query !== 'string') return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (typeof query === 'string' && isMutation(query, operationName)) return undefined;
  if (variables != null && !isRecord(variables)) return undefined;
  if (extensions != null && !isRecord(extensions)) return undefined;
  if (query === undefined && !isRecord(extensions?.persistedQuery)) return undefined;
  // No variables, `null` and `{}` are one request (Apollo executes them alike).
  const orNull = (value: Record<string, unknown> | null | undefined) =>
    value && Object.keys(value).length > 0 ? value : null;
  return [query ?? null, operationName ?? null, orNull(variables), orNull(extensions)];
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const { store, registry, metrics, identify, generation } = options;
  const cacheResults = batchedCounter(registry, {
    name: 'trellis_gateway_response_cache_total',
    help: 'Gateway responses by response-cache result (hit, miss, bypass, store, stale)',
    labelNames: ['result'],
  });
  const results = cacheResults.counter;
  const countHit = cacheResults.child({ result: 'hit' });
  const invalidations = counter(
    registry,
    'trellis_gateway_cache_invalidations_total',
    'Cache invalidation batches applied, by source (pubsub, outbox, admin)',
    ['source'],
  );
  const purged = counter(
    registry,
    'trellis_gateway_cache_purged_entries_total',
    'Cached responses deleted by invalidations',
    [],
  );
  purged.inc(0);

  /** Tag → when it was last invalidated (ms), to refuse storing answers older than that. */
  const invalidatedAt = new Map<string, number>();
  const prune = (now: number) => {
    for (const [tag, at] of invalidatedAt) if (at < now - REMEMBER_MS) invalidatedAt.delete(tag);
  };
  const slots = requestState<CacheSlot>('trellis.cacheSlot');
  /** What this process serves per key: the version the store last returned (see Served). */
  const served = new LRUCache<string, Served>({
    maxSize: ENCODED_MEMO_BYTES,
    sizeCalculation: (value) => value.bytes.length + value.line.length + 256,
  });

  /** The digest of the request's answer-shaping fields (with the generation and Accept), or null when not cacheable. */
  function digestOf(req: IncomingMessage, request: FrontRequest): string | null {
    const accept = req.headers.accept ?? '';
    const gen = generation();
    const memo = request.memo;
    const known = memo?.[DIGEST] as DigestMemo | undefined;
    if (known && known.generation === gen && known.accept === accept) return known.digest;
    const fields = requestFields(request);
    // Safe to serialise: variables and extensions passed the HTTP edge's depth and size bounds.
    const digest = fields ? sha(JSON.stringify([gen, accept, ...fields])) : null;
    if (memo) memo[DIGEST] = { generation: gen, accept, digest } satisfies DigestMemo;
    return digest;
  }

  function keysFor(req: IncomingMessage, request: FrontRequest, viewer: Viewer): CacheSlot['keys'] | undefined {
    const digest = digestOf(req, request);
    if (digest === null) return undefined;
    if (viewer.userId === null && viewer.scopes.length === 0)
      return { public: `rc:${digest}:anon`, private: undefined };
    const scopes = [...viewer.scopes].sort().join(' ');
    return {
      public: `rc:${digest}:pub:${sha(scopes)}`,
      private: viewer.userId === null ? undefined : `rc:${digest}:usr:${sha(`${viewer.userId}\n${scopes}`)}`,
    };
  }

  /** The version of `entry` (a whole stored entry) as served: the memo's when it is that version, else parsed and memoised. */
  function servedOf(key: string, entry: string): Served | undefined {
    const known = served.get(key);
    if (known && headedBy(entry, known.line)) return known;
    const newline = entry.indexOf('\n');
    if (newline === -1) return undefined;
    const line = entry.slice(0, newline);
    const meta = parseMeta(line);
    if (!meta) return undefined;
    const version: Served = {
      line,
      meta,
      cacheControl: `max-age=${meta.m}, ${meta.s === 'PRIVATE' ? 'private' : 'public'}`,
      bytes: Buffer.from(entry.slice(newline + 1)),
    };
    served.set(key, version);
    return version;
  }

  /** Seconds since `meta` was stored, or undefined once it is no longer fresh. */
  function ageOf(meta: EntryMeta): number | undefined {
    const age = Math.max(0, Math.floor((Date.now() - meta.t) / 1000));
    return age < meta.m ? age : undefined;
  }

  /** Writes `version` as the response, if still fresh (true), else nothing (false). */
  function writeHit(req: IncomingMessage, res: ServerResponse, version: Served, started: number): boolean {
    const { meta } = version;
    const age = ageOf(meta);
    if (age === undefined) return false;
    res.statusCode = 200;
    for (const [name, value] of meta.h) res.setHeader(name, value);
    res.setHeader('cache-control', version.cacheControl);
    res.setHeader('age', String(age));
    res.setHeader('x-cache', 'HIT');
    res.end(version.bytes);
    countHit();
    metrics.record(meta.o, 'OK', (performance.now() - started) / 1000, readClientIdentity(req));
    requestLogFields(req).operation = meta.o ?? undefined;
    trace.getActiveSpan()?.setAttributes({ 'trellis.cache.result': 'hit', 'trellis.cache.key_scope': meta.s });
    return true;
  }

  /** Writes a whole stored entry as the response; false when it cannot be used (expired, unreadable). */
  function sendEntry(req: IncomingMessage, res: ServerResponse, key: string, entry: string, started: number): boolean {
    const version = servedOf(key, entry);
    return version !== undefined && writeHit(req, res, version, started);
  }

  /**
   * Looks `key` up: 'absent', 'unusable' (expired or unreadable) or a response written. The
   * entry's header is read first (Redis GETRANGE): when this process already serves that
   * version (the header line matches the memo's), the body is not fetched again — the store
   * still decides whether the entry exists, so invalidations and expiry apply exactly as to a
   * full read.
   */
  async function serveKey(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    started: number,
  ): Promise<'absent' | 'unusable' | 'served'> {
    const head = await store.peek(key, HEAD_BYTES);
    if (head === undefined) return 'absent';
    const known = served.get(key);
    if (known && headedBy(head, known.line)) return writeHit(req, res, known, started) ? 'served' : 'unusable';
    // Another version, or none known: a readable header line that is no longer fresh is
    // unusable without reading on; a header line longer than the peek is read whole.
    const newline = head.indexOf('\n');
    if (newline !== -1 || head.length < HEAD_BYTES) {
      const meta = newline === -1 ? undefined : parseMeta(head.slice(0, newline));
      if (!meta || ageOf(meta) === undefined) return 'unusable';
    }
    const entry = await store.cache.get(key);
    if (entry === undefined) return 'absent';
    return sendEntry(req, res, key, entry, started) ? 'served' : 'unusable';
  }

  const front: GraphQLFront = {
    async serve(req, res, request) {
      const started = performance.now();
      if (!preflighted(req)) return false;
      let viewer: Viewer;
      try {
        viewer = await identify(req);
      } catch {
        return false;
      }
      const keys = keysFor(req, request, viewer);
      if (!keys) return false;
      const directive = req.headers['cache-control'] ?? '';
      const noStore = /\bno-store\b/i.test(directive);
      const bypass = noStore || /\bno-cache\b/i.test(directive);
      const lookup = keys.private ? [keys.private, keys.public] : [keys.public];
      const slot: CacheSlot = { keys, startedAt: Date.now(), bypass, noStore };
      if (!bypass) {
        // Redis failing (the shared circuit: this request's rate-limit decision may have just
        // timed out on it): no lookup at all, so a request pays at most one bounded wait. The
        // answer is still written (after the response): that call is what finds Redis back.
        for (const key of store.degraded() ? [] : lookup) {
          const found = await serveKey(req, res, key, started);
          if (found === 'served') return true;
          // A lookup that failed (an outage's first calls) is not followed by a second one:
          // one timeout at most per request at the onset of an outage.
          if (found === 'unusable' || store.degraded()) break;
        }
        // Missed: wait for an identical request already computing this answer, or lead
        // (not for requests whose answer was lately not storable: nothing to wait for).
        const first = lookup[0] as string;
        if (!uncacheable.has(first)) {
          const leader = inflight.get(first);
          if (!leader) lead(first, slot, res);
          else {
            const stored = await follow(leader);
            if (stored && lookup.includes(stored.key) && sendEntry(req, res, stored.key, stored.entry, started))
              return true;
            slot.startedAt = Date.now();
          }
        }
      }
      slots.set(req, slot);
      return false;
    },
    complete(req, status, headers, body) {
      const slot = slots.get(req);
      if (!slot) return;
      const decision = slot.decision;
      if (!decision || status !== 200) {
        if (slot.leads) uncacheable.set(slot.leads, true);
        slot.release?.(undefined);
        return;
      }
      if (isStale(decision.tags, slot.startedAt)) {
        results.inc({ result: 'stale' });
        slot.release?.(undefined);
        return;
      }
      const meta: EntryMeta = {
        t: Date.now(),
        n: randomBytes(6).toString('base64url'),
        m: decision.maxAge,
        s: decision.scope,
        o: decision.operation,
        h: [...headers].filter(([name]) => !PER_RESPONSE.has(name)),
      };
      const entry = `${JSON.stringify(meta)}\n${body}`;
      slot.release?.({ key: decision.key, entry });
      void write(decision.key, entry, decision, slot.startedAt);
    },
  };

  /** Keys whose last answer could not be stored (mutations, errors, no max-age): not coalesced for a while. */
  const uncacheable = new LRUCache<string, true>({ max: 10_000, ttl: UNCACHEABLE_MS });

  /** In-flight answers by the first key their requests look up. */
  const inflight = new Map<string, Promise<Stored | undefined>>();

  /** Registers `slot` as computing the answer for `key`; released when stored, refused or the response ends. */
  function lead(key: string, slot: CacheSlot, res: ServerResponse) {
    let resolve!: (stored: Stored | undefined) => void;
    const promise = new Promise<Stored | undefined>((r) => {
      resolve = r;
    });
    inflight.set(key, promise);
    slot.leads = key;
    slot.release = (stored) => {
      slot.release = undefined;
      if (inflight.get(key) === promise) inflight.delete(key);
      resolve(stored);
    };
    res.once('close', () => slot.release?.(undefined));
  }

  function follow(leader: Promise<Stored | undefined>): Promise<Stored | undefined> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      leader,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), FOLLOW_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  const isStale = (tags: readonly string[], startedAt: number) =>
    tags.some((tag) => (invalidatedAt.get(tag) ?? 0) >= startedAt);

  async function write(key: string, entry: string, decision: NonNullable<CacheSlot['decision']>, startedAt: number) {
    // Entry and tags in one step, refused when a tag was invalidated after this answer began
    // (by any replica or relay, whatever order a stalled Redis applies the commands in). The
    // marker is Redis's clock, the start this gateway's: hosts keep them in step (NTP), and
    // an answer that completes after this gateway heard of the invalidation is refused here
    // anyway (isStale), so a skew matters only to a write stalled across an invalidation.
    const written = await store.put(key, entry, { ttl: decision.maxAge, tags: decision.tags, notBefore: startedAt });
    if (written !== undefined) results.inc({ result: written ? 'store' : 'stale' });
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      contextValue.cacheTags = new Set();
      return {
        async willSendResponse(context) {
          if (context.operation?.operation !== 'query' || context.response.body.kind !== 'single') return;
          const http = context.response.http;
          http.headers.set('x-cache', 'MISS');
          http.headers.set('age', '0');
          const slot = context.contextValue.cacheSlot;
          const result = slot?.bypass ? 'bypass' : 'miss';
          results.inc({ result });
          const policy = context.overallCachePolicy.policyIfCacheable();
          const tags = context.contextValue.cacheTags ?? new Set<string>();
          trace.getActiveSpan()?.setAttributes({
            'trellis.cache.result': result,
            'trellis.cache.key_scope': policy ? (policy.scope ?? 'PUBLIC') : 'UNCACHEABLE',
            'trellis.cache.tags': tags.size,
          });
          const { data, errors } = context.response.body.singleResult;
          if (!slot || slot.noStore || errors || !data || !policy) return;
          const scope = policy.scope ?? 'PUBLIC';
          const key = scope === 'PRIVATE' ? slot.keys.private : slot.keys.public;
          if (!key) return;
          slot.decision = {
            key,
            maxAge: policy.maxAge,
            scope,
            operation: context.operationName ?? null,
            tags: [...tags],
          };
        },
      };
    },
  };

  return {
    front,
    plugins: [plugin],
    slotOf: (req) => slots.get(req),
    async invalidate(batch, source) {
      const tags = tagsToPurge(batch);
      const now = Date.now();
      if (invalidatedAt.size > 10_000) prune(now);
      for (const tag of tags) invalidatedAt.set(tag, now);
      // On Redis a relay's publish already deleted the entries (batch.purged); this purge is
      // then a no-op that only confirms it, and an outage here loses nothing.
      const own = await store.purge(tags);
      if (own === undefined && batch.purged === undefined) return undefined;
      const deleted = (own ?? 0) + (batch.purged ?? 0);
      invalidations.inc({ source });
      purged.inc(deleted);
      trace.getActiveSpan()?.setAttributes({
        'trellis.cache.invalidation_source': source,
        'trellis.cache.purged_entries': deleted,
      });
      return deleted;
    },
  };
}
