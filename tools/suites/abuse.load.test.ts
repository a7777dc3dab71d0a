// One abusive client beside the normal mix (issue 18): the soak's operations at a steady rate
// from eight ordinary clients (each its own address, through a trusted proxy), then the same
// with one more client flooding cost bombs just under the operation limit at 8× the mix's
// request rate. Pass criteria: the ordinary clients see no error and keep their latency
// (catalogue-read p99 within the SLO, and within 1.5× of their own baseline + 20 ms), the
// abusive client is refused (429 RATE_LIMITED) once its budget is spent, and its refused
// requests reach no subgraph.
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GATEWAY_COMMAND, MEMORY } from '../src/runtime.ts';
import { isAlive, type ProcessGraph, startProcessGraph } from './graph.ts';
import { describeSample, type Operation, runLoad, type Sample, statsByOperation } from './load.ts';
import { mixedOperations } from './operations.ts';
import { ms, recordResult } from './report.ts';

const WARMUP_MS = 10_000;
const PHASE_MS = 30_000;
const CONCURRENCY = 8;
const RATE = 40;
/** The flood: unpaced beyond this rate, over its own connections. */
const FLOOD_RATE = RATE * 8;
const FLOOD_CONCURRENCY = 16;
/** Per-address budget of the scenario: 6× what an ordinary client spends in a window. */
const ANON_POINTS = 60_000;
const CATALOGUE_P99_MS = 300;
/** 1 + 100 × (edges 1 + node 1 + reviews (1 + 100 × (edges 1 + node 1))) = 20,301 ≤ MAX_COST 25,000. */
const BOMB = '{ products(first: 100) { edges { node { id reviews(first: 100) { edges { node { id } } } } } } }';

let database: TestDatabase;
let graph: ProcessGraph;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_abuse');
  graph = await startProcessGraph({
    databaseUrl: database.url,
    gatewayEnv: {
      RESPONSE_CACHE: 'off',
      RATE_LIMIT_ANON_POINTS: String(ANON_POINTS),
      RATE_LIMIT_WINDOW_S: '60',
      // The suite plays the ingress: each client's address comes in X-Forwarded-For.
      TRUSTED_PROXIES: 'loopback',
    },
  });
});
afterAll(async () => {
  await graph?.stop();
  await database?.drop();
});

/** The mix with each send attributed to one of eight client addresses. */
function fromClients(operations: Operation[]): Operation[] {
  return operations.map((op) => ({
    ...op,
    request: (n) => {
      const request = op.request(n);
      return { ...request, headers: { ...request.headers, 'x-forwarded-for': `198.51.100.${(n % 8) + 1}` } };
    },
  }));
}

const FLOOD: Operation = {
  name: 'Flood',
  request: () => ({ body: { query: BOMB }, headers: { 'x-forwarded-for': '203.0.113.66' } }),
};

async function fetchesTotal(): Promise<number> {
  const text = await (await fetch(`${graph.url.replace(/\/graphql$/, '')}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('trellis_gateway_subgraph_fetches_total{')) total += Number(line.split(' ').at(-1));
  return total;
}

function problems(samples: Sample[], expected: Record<string, string[]>): string[] {
  return samples
    .filter((s) => {
      if (s.failure || s.status !== 200) return true;
      const want = expected[s.operation] ?? [];
      return s.codes.join(',') !== want.join(',') || (want.length === 0 && !s.hasData);
    })
    .map(describeSample);
}

const catalogueP99 = (samples: Sample[]) => {
  const stats = statsByOperation(samples);
  return Math.max(stats.Catalogue?.p99 ?? 0, stats.ProductPage?.p99 ?? 0);
};

describe('abusive client', () => {
  it('a flood of cost bombs from one client is refused; the other clients keep their latency and see no error', async () => {
    const { operations, expected } = await mixedOperations();
    const mix = fromClients(operations);
    const normal = (durationMs: number) =>
      runLoad({ url: graph.url, operations: mix, concurrency: CONCURRENCY, ratePerSecond: RATE, durationMs });
    await normal(WARMUP_MS);
    const baselineStart = await fetchesTotal();
    const baseline = await normal(PHASE_MS);
    const fetchesBefore = await fetchesTotal();
    const baselinePerRequest = (fetchesBefore - baselineStart) / Math.max(1, baseline.length);
    const [during, flood] = await Promise.all([
      normal(PHASE_MS),
      runLoad({
        url: graph.url,
        operations: [FLOOD],
        concurrency: FLOOD_CONCURRENCY,
        ratePerSecond: FLOOD_RATE,
        durationMs: PHASE_MS,
      }),
    ]);
    const fetchesDuring = (await fetchesTotal()) - fetchesBefore;

    const admitted = flood.filter((s) => s.status === 200);
    const refused = flood.filter((s) => s.status === 429 && s.codes.join(',') === 'RATE_LIMITED');
    const other = flood.filter((s) => s.status !== 200 && !refused.includes(s));
    const baselineP99 = catalogueP99(baseline);
    const duringP99 = catalogueP99(during);
    const baselineStats = statsByOperation(baseline);
    const duringStats = statsByOperation(during);
    const bad = [...problems(baseline, expected), ...problems(during, expected)];
    const latencyKept = duringP99 <= CATALOGUE_P99_MS && duringP99 <= baselineP99 * 1.5 + 20;
    const fetchesPerRequest = fetchesDuring / Math.max(1, during.length + admitted.length);
    // The refused flood fetched nothing: the phase's fetches are the ordinary clients' (at their
    // baseline rate per request, +25 % for noise) and at most 10 per admitted bomb.
    const fetchBound = baselinePerRequest * during.length * 1.25 + admitted.length * 10;
    const passed =
      bad.length === 0 &&
      latencyKept &&
      other.length === 0 &&
      admitted.length <= Math.ceil(ANON_POINTS / 20_302) + 1 &&
      fetchesDuring <= fetchBound &&
      isAlive(graph.gateway);

    await recordResult({
      id: 'abuse',
      title: 'Abusive client: a flood of cost bombs beside the normal mix (rate limits)',
      command: 'pnpm test:load (tools/suites/abuse.load.test.ts)',
      passed,
      lines: [
        `- Normal mix: the soak's operations at ${RATE} req/s from ${CONCURRENCY} clients, each request attributed to one of 8 addresses (X-Forwarded-For through \`TRUSTED_PROXIES=loopback\`); ${WARMUP_MS / 1000} s warm-up, ${PHASE_MS / 1000} s baseline, then ${PHASE_MS / 1000} s beside the flood. Response cache off; gateway as deployed (\`MEMORY_LIMIT=${MEMORY.gateway.limitMi}Mi ${GATEWAY_COMMAND.join(' ')}\`), \`RATE_LIMIT_ANON_POINTS=${ANON_POINTS}\` per 60 s`,
        `- Flood: one address, a cost bomb estimated at 20,301 (limit 25,000) at up to ${FLOOD_RATE} req/s over ${FLOOD_CONCURRENCY} connections: ${flood.length} requests (${(flood.length / (PHASE_MS / 1000)).toFixed(0)} req/s), ${admitted.length} admitted (its budget buys ${Math.floor(ANON_POINTS / 20_302)}–${Math.ceil(ANON_POINTS / 20_302)}), ${refused.length} refused with 429 RATE_LIMITED, ${other.length} other`,
        `- Ordinary clients: unexpected responses ${bad.length} (criterion: 0); catalogue-read p99 ${ms(baselineP99)} baseline, ${ms(duringP99)} during the flood (criteria: ≤ ${CATALOGUE_P99_MS} ms and ≤ 1.5 × baseline + 20 ms)`,
        `- Subgraph fetches during the flood phase: ${fetchesDuring} for ${during.length} ordinary and ${admitted.length} admitted flood requests (${fetchesPerRequest.toFixed(2)} per request; baseline ${baselinePerRequest.toFixed(2)} per ordinary request): the ${refused.length} refused requests fetched nothing (criterion: ≤ ${fetchBound.toFixed(0)})`,
        '',
        '| operation | baseline p50 | baseline p99 | during flood p50 | during flood p99 |',
        '|---|---|---|---|---|',
        ...Object.entries(duringStats).map(
          ([name, s]) =>
            `| ${name} | ${ms(baselineStats[name]?.p50 ?? 0)} | ${ms(baselineStats[name]?.p99 ?? 0)} | ${ms(s.p50)} | ${ms(s.p99)} |`,
        ),
      ],
    });

    expect(isAlive(graph.gateway)).toBe(true);
    expect(bad.slice(0, 10), `${bad.length} unexpected responses`).toEqual([]);
    expect(other.map(describeSample).slice(0, 10)).toEqual([]);
    expect(refused.length).toBeGreaterThan(flood.length * 0.95);
    expect(admitted.length).toBeLessThanOrEqual(Math.ceil(ANON_POINTS / 20_302) + 1);
    expect(duringP99).toBeLessThanOrEqual(CATALOGUE_P99_MS);
    expect(duringP99).toBeLessThanOrEqual(baselineP99 * 1.5 + 20);
    expect(fetchesDuring).toBeLessThanOrEqual(fetchBound);
  });
});
