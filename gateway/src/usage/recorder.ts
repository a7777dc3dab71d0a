// Operation usage reporting at the gateway: an Apollo plugin records each executed operation
// (its shape, client, outcome and latency) in memory — no I/O on the request path — and a
// timer flushes the aggregate to Postgres (`gateway_usage`) in one batch. A flush that fails
// (database down, read-only, slow) drops its batch and counts it; requests never wait for,
// or fail because of, usage reporting. Schema checks read the tables (tools/src/usage).

import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  CLIENT_NAME_HEADER,
  CLIENT_VERSION_HEADER,
  type ClientIdentity,
  type FrontRequest,
  type GraphQLFront,
  parseClientIdentity,
  readClientIdentity,
} from '@trellis/http';
import type { Logger } from '@trellis/telemetry';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { UsageAggregator } from './aggregator.ts';
import { createUsageMetrics } from './metrics.ts';
import { describeOperation, type OperationShape } from './operation.ts';
import { createUsageStore, type UsageStore } from './store.ts';

export interface UsageConfig {
  /** Postgres holding `gateway_usage` (USAGE_DATABASE_URL); migrated on the first flush. */
  databaseUrl: string;
  /** Time between flushes (USAGE_FLUSH_INTERVAL_MS). @default 60_000 */
  flushIntervalMs: number;
  /** Length of a stored time bucket (USAGE_BUCKET_MINUTES). @default 60 minutes */
  bucketMs: number;
  /** Days of usage kept (USAGE_RETENTION_DAYS). @default 30 */
  retentionDays: number;
  /** Distinct (bucket, operation, client, version) keys held between flushes (USAGE_MAX_ENTRIES). @default 5000 */
  maxEntries: number;
  /** Signature text held between flushes. @default 8 MiB */
  maxSignatureBytes: number;
}

export const DEFAULT_USAGE: Omit<UsageConfig, 'databaseUrl'> = {
  flushIntervalMs: 60_000,
  bucketMs: 60 * 60_000,
  retentionDays: 30,
  maxEntries: 5000,
  maxSignatureBytes: 8 * 1024 * 1024,
};

/** Operation texts remembered (by size) to record the response cache's hits, which never reach Apollo. */
const KNOWN_TEXT_BYTES = 4 * 1024 * 1024;

/** The operation text and name of a request as the front sees it (the key of known texts). */
function textKey(request: FrontRequest): string | undefined {
  let query: unknown;
  let name: unknown;
  if (request.method === 'POST') {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) return undefined;
    ({ query, operationName: name } = request.body as Record<string, unknown>);
  } else {
    const params = new URLSearchParams(request.search);
    query = params.get('query');
    name = params.get('operationName');
  }
  return typeof query === 'string' ? `${typeof name === 'string' ? name : ''}\n${query}` : undefined;
}

/** The text key of a request, kept on its body's memo (FrontRequest.memo, one per vetted body text). */
const TEXT_KEY = Symbol('trellis.usage.textKey');

/**
 * The text key of a request. A cached hit's body is never parsed (reading `request.body` would
 * parse it just to record the hit): its key is computed once per body text, on the body's memo.
 */
function textKeyOf(request: FrontRequest): string | undefined {
  const memo = request.memo;
  if (!memo) return textKey(request);
  if (!(TEXT_KEY in memo)) memo[TEXT_KEY] = textKey(request);
  return memo[TEXT_KEY] as string | undefined;
}

/** Retention runs at most this often per gateway. */
const PRUNE_EVERY_MS = 60 * 60_000;

export interface UsageReporting {
  plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext>;
  /**
   * Wraps the response cache's front so its hits are recorded too: a hit of an operation text
   * this gateway has executed counts as a request of that operation (others are counted as
   * dropped, reason `unknown`, until this gateway executes the text once).
   */
  front(inner: GraphQLFront): GraphQLFront;
  /** Writes what is held now (tests, shutdown); resolves when done or dropped. */
  flush(): Promise<void>;
  /** Flushes once more (bounded in time) and closes the connection. */
  close(): Promise<void>;
}

export function createUsageReporting(
  config: UsageConfig,
  deps: { registry: Registry; logger: Logger; store?: UsageStore },
): UsageReporting {
  const { registry, logger } = deps;
  const aggregator = new UsageAggregator(config);
  const { dropped, droppedBuckets, flushes, rowsWritten, flushSeconds } = createUsageMetrics(registry, aggregator);
  const store = deps.store ?? createUsageStore({ url: config.databaseUrl, registry });
  // Shapes per schema and parsed document: Apollo reuses the parsed document of a repeated
  // operation text, so a shape is computed once per distinct text (and schema version).
  const shapes = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, OperationShape>>>();
  const shapeOf = (
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
  ): OperationShape | undefined => {
    let byDocument = shapes.get(schema);
    if (!byDocument) {
      byDocument = new WeakMap();
      shapes.set(schema, byDocument);
    }
    let byName = byDocument.get(document);
    if (!byName) {
      byName = new Map();
      byDocument.set(document, byName);
    }
    const name = operation.name?.value ?? '';
    let shape = byName.get(name);
    if (!shape) {
      // Full: a new text would be dropped anyway; do not spend CPU on its shape.
      if (aggregator.full) return undefined;
      shape = describeOperation(schema, document, operation);
      byName.set(name, shape);
    }
    return shape;
  };

  const knownTexts = new LRUCache<string, OperationShape>({
    maxSize: KNOWN_TEXT_BYTES,
    sizeCalculation: (_shape, key) => key.length + 64,
  });
  const record = (
    shape: OperationShape | undefined,
    client: ClientIdentity,
    errors: boolean,
    durationMs: number,
    at: number,
  ) => {
    const kept =
      shape !== undefined &&
      aggregator.add({ shape, clientName: client.name, clientVersion: client.version, errors, durationMs, at });
    if (!kept) dropped.inc({ reason: 'limit' });
  };

  let flushing: Promise<void> | undefined;
  let lastPrune = 0;
  const flushOnce = async () => {
    const batch = aggregator.drain();
    if (batch.entries.length === 0) return;
    const started = performance.now();
    try {
      rowsWritten.inc(await store.write(batch));
      flushes.inc({ result: 'ok' });
      if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
        lastPrune = Date.now();
        await store.prune(config.retentionDays);
      }
    } catch (error) {
      flushes.inc({ result: 'failed' });
      droppedBuckets.inc(batch.entries.length);
      dropped.inc(
        { reason: 'flush' },
        batch.entries.reduce((n, e) => n + e.requests, 0),
      );
      logger.warn({ err: String(error), rows: batch.entries.length }, 'usage flush failed; batch dropped');
    } finally {
      flushSeconds.observe((performance.now() - started) / 1000);
    }
  };
  const flush = () => {
    // Requests answered just before are recorded on the next turn of the event loop.
    flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(flushOnce).finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), config.flushIntervalMs);
  timer.unref();

  return {
    plugin: () => ({
      async requestDidStart() {
        const started = performance.now();
        return {
          async willSendResponse({ schema, document, operation, response, request }) {
            // Only operations that resolved against the schema have a shape (not parse or validation failures).
            if (!document || !operation) return;
            const headers = request.http?.headers;
            const client = parseClientIdentity(headers?.get(CLIENT_NAME_HEADER), headers?.get(CLIENT_VERSION_HEADER));
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            const durationMs = performance.now() - started;
            const at = Date.now();
            // After the response is on its way: a new operation text's shape (signature,
            // coordinates) costs milliseconds on a large document, never the client's.
            const text = request.query === undefined ? undefined : `${request.operationName ?? ''}\n${request.query}`;
            setImmediate(() => {
              try {
                const shape = shapeOf(schema, document, operation);
                if (shape && text !== undefined && text.length <= KNOWN_TEXT_BYTES / 64) knownTexts.set(text, shape);
                record(shape, client, Boolean(errors?.length), durationMs, at);
              } catch (error) {
                // Usage reporting never fails a request.
                logger.warn({ err: String(error) }, 'usage not recorded');
              }
            });
          },
        };
      },
    }),
    front: (inner) => ({
      ...inner,
      async serve(req: IncomingMessage, res, request) {
        const started = performance.now();
        const served = await inner.serve(req, res, request);
        if (served) {
          const key = textKeyOf(request);
          const shape = key === undefined ? undefined : knownTexts.get(key);
          if (shape) record(shape, readClientIdentity(req), false, performance.now() - started, Date.now());
          else dropped.inc({ reason: 'unknown' });
        }
        return served;
      },
    }),
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await Promise.race([flush(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await store.close();
    },
  };
}
