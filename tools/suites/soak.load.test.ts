// Soak: the gateway under a steady mixed load for minutes. Pass criteria: no error beyond
// the typed one the mix asks for, catalogue reads within the SLO's p99 (300 ms), and the
// gateway's resident memory growing less than 10 % after warm-up.
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GATEWAY_COMMAND, MEMORY } from '../src/runtime.ts';
import { heapUsedBytes, isAlive, type ProcessGraph, residentBytes, startProcessGraph } from './graph.ts';
import { describeSample, runLoad, type Sample, statsByOperation } from './load.ts';
import { mixedOperations } from './operations.ts';
import { mib, ms, recordResult } from './report.ts';

const WARMUP_MS = 20_000;
const SOAK_MS = 90_000;
const CONCURRENCY = 8;
/** Offered load: what 2 shared cores carry with room; the SLO is judged at this rate. */
const RATE = 60;
/** docs/slo.md: catalogue reads (Catalogue, ProductPage) p99 ≤ 300 ms at the gateway. */
const CATALOGUE_P99_MS = 300;
/** docs/slo.md: placing an order (PlaceOrder) p99 ≤ 500 ms. */
const PLACE_ORDER_P99_MS = 500;
const MAX_RSS_GROWTH = 0.1;

let database: TestDatabase;
let graph: ProcessGraph;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_soak');
  // The response cache is off: every request crosses the gateway to the subgraphs and SQL.
  graph = await startProcessGraph({
    databaseUrl: database.url,
    gatewayEnv: { RESPONSE_CACHE: 'off' },
    probeGatewayMemory: true,
  });
});
afterAll(async () => {
  await graph?.stop();
  await database?.drop();
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** What is wrong with a sample, or undefined when it is a success the mix expects. */
function problem(sample: Sample, expected: Record<string, string[]>): string | undefined {
  if (sample.failure || sample.status !== 200) return describeSample(sample);
  const want = expected[sample.operation] ?? [];
  if (sample.codes.join(',') !== want.join(',')) return describeSample(sample);
  if (want.length === 0 && !sample.hasData) return describeSample(sample);
  return undefined;
}

describe('soak', () => {
  it('mixed operations: error rate 0, catalogue p99 within the SLO, RSS growth < 10 % after warm-up', async () => {
    const { operations, expected } = await mixedOperations();
    const pid = graph.gateway.process.child.pid as number;
    // The live heap before any load (forcing collections here biases no later reading).
    const liveAtStart = await graph.liveHeapBytes();

    const warmup = await runLoad({
      url: graph.url,
      operations,
      concurrency: CONCURRENCY,
      ratePerSecond: RATE,
      durationMs: WARMUP_MS,
    });

    const heapAfterWarmup = await heapUsedBytes(graph.gateway);
    const rss: number[] = [];
    const sampler = setInterval(() => {
      residentBytes(pid).then(
        (bytes) => rss.push(bytes),
        () => {},
      );
    }, 1000);
    const started = Date.now();
    const samples = await runLoad({
      url: graph.url,
      operations,
      concurrency: CONCURRENCY,
      ratePerSecond: RATE,
      durationMs: SOAK_MS,
    });
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(sampler);
    // Garbage collection makes RSS a sawtooth: compare the medians of the first and the last
    // ten seconds of the measured phase, not two single readings.
    const rssAfterWarmup = median(rss.slice(0, 10));
    const rssEnd = median(rss.slice(-10));

    const problems = [...warmup, ...samples].map((s) => problem(s, expected)).filter(Boolean) as string[];
    const stats = statsByOperation(samples);
    const catalogueP99 = Math.max(stats.Catalogue?.p99 ?? 0, stats.ProductPage?.p99 ?? 0);
    const heapEnd = await heapUsedBytes(graph.gateway);
    // Only now: forced collections would bias the RSS readings above.
    const liveEnd = await graph.liveHeapBytes();
    const placeOrderP99 = stats.PlaceOrder?.p99 ?? 0;
    const growth = (rssEnd - rssAfterWarmup) / rssAfterWarmup;
    const peak = Math.max(...rss);
    const passed =
      problems.length === 0 &&
      catalogueP99 <= CATALOGUE_P99_MS &&
      placeOrderP99 <= PLACE_ORDER_P99_MS &&
      growth < MAX_RSS_GROWTH &&
      isAlive(graph.gateway);

    await recordResult({
      id: 'soak',
      title: 'Soak: mixed operations through the gateway',
      command: 'pnpm test:load',
      passed,
      lines: [
        `- Load: ${RATE} req/s offered by ${CONCURRENCY} clients, ${WARMUP_MS / 1000} s warm-up then ${SOAK_MS / 1000} s measured; response cache off; subgraphs and gateway as separate processes (NODE_ENV=production), the gateway started as deployed (\`MEMORY_LIMIT=${MEMORY.gateway.limitMi}Mi ${GATEWAY_COMMAND.join(' ')}\`)`,
        `- Requests measured: ${samples.length} (${(samples.length / elapsed).toFixed(0)} req/s), warm-up ${warmup.length}`,
        `- Unexpected responses (non-200, transport errors, errors other than the typed one asked for): ${problems.length} (criterion: 0)`,
        `- Catalogue-read p99 (Catalogue, ProductPage): ${ms(catalogueP99)} (criterion: ≤ ${CATALOGUE_P99_MS} ms)`,
        `- PlaceOrder p99: ${ms(placeOrderP99)} (criterion: ≤ ${PLACE_ORDER_P99_MS} ms)`,
        `- Gateway RSS (median of 1 s readings): ${mib(rssAfterWarmup)} in the first 10 s after warm-up, ${mib(rssEnd)} in the last 10 s, peak ${mib(peak)}; growth ${(growth * 100).toFixed(1)} % (criterion: < ${MAX_RSS_GROWTH * 100} %)`,
        `- Gateway V8 heap in use, garbage included (from /metrics; not a criterion): ${mib(heapAfterWarmup)} after warm-up, ${mib(heapEnd)} at the end`,
        `- Gateway live heap (V8 heap in use after forced full garbage collections; not a criterion): ${mib(liveAtStart)} before the warm-up, ${mib(liveEnd)} after the run`,
        '',
        '| operation | requests | p50 | p95 | p99 | max |',
        '|---|---|---|---|---|---|',
        ...Object.entries(stats).map(
          ([name, s]) => `| ${name} | ${s.count} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} |`,
        ),
      ],
    });

    expect(isAlive(graph.gateway)).toBe(true);
    expect(problems.slice(0, 10), `${problems.length} unexpected responses`).toEqual([]);
    expect(stats.ForgedCursor?.count).toBeGreaterThan(0);
    expect(catalogueP99).toBeLessThanOrEqual(CATALOGUE_P99_MS);
    expect(stats.PlaceOrder?.count).toBeGreaterThan(0);
    expect(placeOrderP99).toBeLessThanOrEqual(PLACE_ORDER_P99_MS);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });
});
