// Fuzz: ≥ 10,000 hostile inputs against one running graph. Pass criteria: no process
// crashes (every service alive and live afterwards), no untyped error (every response is
// JSON; every error carries a code from @trellis/errors; never a 5xx or a hang; a bad token
// identifies no one), and the gateway's memory stable after warm-up (a first pass): RSS
// grows < 10 % over a second pass, and its live heap (after forced garbage collections) < 10 %
// over a third. Counts per category go to docs/reliability.md.
import { ErrorCode } from '@trellis/errors';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GATEWAY_COMMAND, MEMORY } from '../src/runtime.ts';
import { heapUsedBytes, isAlive, type ProcessGraph, residentBytes, startProcessGraph } from './graph.ts';
import { type HostileInput, hostileInputs } from './hostile.ts';
import { mib, recordResult } from './report.ts';

const CONCURRENCY = 8;
const TIMEOUT_MS = 15_000;
const MAX_RSS_GROWTH = 0.1;
const MAX_LIVE_HEAP_GROWTH = 0.1;
const CODES = new Set<string>(Object.values(ErrorCode));

let database: TestDatabase;
let graph: ProcessGraph;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_fuzz');
  graph = await startProcessGraph({ databaseUrl: database.url, probeGatewayMemory: true });
});
afterAll(async () => {
  await graph?.stop();
  await database?.drop();
});

interface Outcome {
  category: string;
  status: number;
  /** Why the response breaks the contract, if it does. */
  problem?: string;
}

/** What is wrong with a response to hostile input, or undefined when it is well-formed. */
function judge(input: HostileInput, status: number, text: string): string | undefined {
  const category = input.category;
  if (status >= 500) return `status ${status}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a non-JSON body: ${text.slice(0, 80)}`;
  }
  const results = Array.isArray(body) ? body : [body];
  if (results.length === 0 && status === 200) return 'empty batch answer';
  for (const result of results) {
    const { data, errors } = (result ?? {}) as {
      data?: { me?: unknown };
      errors?: { extensions?: { code?: unknown } }[];
    };
    if (status !== 200 && !errors?.length) return `status ${status} without errors`;
    for (const error of errors ?? []) {
      const code = error.extensions?.code;
      if (typeof code !== 'string' || !CODES.has(code)) return `untyped error ${JSON.stringify(error).slice(0, 200)}`;
    }
    // Issue 16's inputs: refused, typed, with the status that says why.
    const refusal = input.refusal;
    if (refusal && (status !== refusal.status || errors?.[0]?.extensions?.code !== refusal.code))
      return `expected ${refusal.status} ${refusal.code}, got ${status}: ${text.slice(0, 160)}`;
    // A forged, expired or misaddressed token must never identify anyone.
    if (category === 'jwt' && data?.me != null) return `a bad token was accepted: ${text.slice(0, 200)}`;
  }
  return undefined;
}

async function send(url: string, input: HostileInput): Promise<Outcome> {
  try {
    const response = await fetch(url, {
      method: input.method,
      headers: input.headers,
      body: input.body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    const problem = judge(input, response.status, text);
    return { category: input.category, status: response.status, ...(problem ? { problem } : {}) };
  } catch (error) {
    return { category: input.category, status: 0, problem: `transport: ${(error as Error).message}` };
  }
}

describe('fuzz', () => {
  it('10,000+ hostile inputs: 0 crashes, 0 untyped errors, memory stable', async () => {
    const inputs = await hostileInputs();
    expect(inputs.length).toBeGreaterThanOrEqual(10_000);
    // Interleave the categories, so every stretch of the run mixes them.
    const order = inputs.map((input, i) => ({ input, key: (i * 7919) % inputs.length })).sort((a, b) => a.key - b.key);
    const pid = graph.gateway.process.child.pid as number;
    // Passes over the same corpus: the first fills every bounded cache (documents, plans,
    // responses) and reaches the heap's high-water mark; in the second the same inputs must
    // not grow resident memory further, or something keeps state per request. Then the live
    // heap (after forced full collections; taken only now, as forcing them would bias the RSS
    // readings) must not grow over a third pass: retention, without the garbage V8 has not
    // collected yet that RSS includes.
    const outcomes: Outcome[] = [];
    const pass = async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < order.length) {
            const { input } = order[next++] as { input: HostileInput };
            outcomes.push(await send(graph.url, input));
          }
        }),
      );
    };
    let peakRss = 0;
    const sampler = setInterval(() => {
      residentBytes(pid).then(
        (bytes) => (peakRss = Math.max(peakRss, bytes)),
        () => {},
      );
    }, 1000);
    const started = Date.now();
    const liveAtStart = await graph.liveHeapBytes();
    await pass();
    const rssAfterWarmup = await residentBytes(pid);
    const heapAfterWarmup = await heapUsedBytes(graph.gateway);
    await pass();
    const rssEnd = await residentBytes(pid);
    const heapEnd = await heapUsedBytes(graph.gateway);
    const growth = (rssEnd - rssAfterWarmup) / rssAfterWarmup;
    const liveAfterSecond = await graph.liveHeapBytes();
    await pass();
    const liveAfterThird = await graph.liveHeapBytes();
    const liveGrowth = (liveAfterThird - liveAfterSecond) / liveAfterSecond;
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;

    const services = [graph.gateway, ...Object.values(graph.subgraphs)];
    const live = await Promise.all(
      services.map(
        async (s) => (await fetch(`http://127.0.0.1:${s.port}/health/live`).catch(() => null))?.status === 200,
      ),
    );
    const crashed = services.filter((s, i) => !isAlive(s) || !live[i]).map((s) => s.name);
    const problems = outcomes.filter((o) => o.problem);

    const categories = new Map<string, { total: number; statuses: Map<number, number>; problems: number }>();
    for (const o of outcomes) {
      const entry = categories.get(o.category) ?? { total: 0, statuses: new Map(), problems: 0 };
      entry.total++;
      entry.statuses.set(o.status, (entry.statuses.get(o.status) ?? 0) + 1);
      if (o.problem) entry.problems++;
      categories.set(o.category, entry);
    }
    const passed =
      crashed.length === 0 && problems.length === 0 && growth < MAX_RSS_GROWTH && liveGrowth < MAX_LIVE_HEAP_GROWTH;
    await recordResult({
      id: 'fuzz',
      title: 'Fuzz: hostile inputs against the gateway',
      command: 'pnpm test:fuzz',
      passed,
      lines: [
        `- Inputs: ${outcomes.length} (a seeded fast-check corpus of ${inputs.length}, seed 20261201, sent three times), ${CONCURRENCY} concurrent clients, ${seconds.toFixed(0)} s; graph of real processes in NODE_ENV=production, response cache in memory; gateway started as deployed (\`MEMORY_LIMIT=${MEMORY.gateway.limitMi}Mi ${GATEWAY_COMMAND.join(' ')}\`)`,
        `- Crashed or not live afterwards: ${crashed.length ? crashed.join(', ') : 'none'} (criterion: none)`,
        `- Untyped errors, 5xx, non-JSON bodies or hangs (> ${TIMEOUT_MS / 1000} s): ${problems.length} (criterion: 0)`,
        `- Gateway RSS: ${mib(rssAfterWarmup)} after the first pass, ${mib(rssEnd)} after the second; growth ${(growth * 100).toFixed(1)} % (criterion: < ${MAX_RSS_GROWTH * 100} %); peak ${mib(peakRss)} (1 s readings)`,
        `- Gateway live heap (V8 heap in use after forced full garbage collections): ${mib(liveAtStart)} before the first pass, ${mib(liveAfterSecond)} after the second, ${mib(liveAfterThird)} after the third; growth over the third ${(liveGrowth * 100).toFixed(1)} % (criterion: < ${MAX_LIVE_HEAP_GROWTH * 100} %)`,
        `- Gateway V8 heap in use, garbage included (from /metrics; not a criterion): ${mib(heapAfterWarmup)} after the first pass, ${mib(heapEnd)} after the second`,
        ...[...new Map(problems.map((p) => [`${p.category}: ${p.problem?.slice(0, 60)}`, p])).values()]
          .slice(0, 10)
          .map((p) => `  - ${p.category}: ${(p.problem ?? '').slice(0, 160).replace(/\|/g, '\\|')}`),
        '',
        '| category | inputs | responses by status | problems |',
        '|---|---|---|---|',
        ...[...categories].map(
          ([name, c]) =>
            `| ${name} | ${c.total} | ${[...c.statuses]
              .sort((a, b) => a[0] - b[0])
              .map(([status, count]) => `${status}: ${count}`)
              .join(', ')} | ${c.problems} |`,
        ),
      ],
    });

    expect(crashed).toEqual([]);
    expect(
      problems.slice(0, 10).map((p) => `${p.category}: ${p.problem}`),
      `${problems.length} bad responses`,
    ).toEqual([]);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
    expect(liveGrowth).toBeLessThan(MAX_LIVE_HEAP_GROWTH);
  });
});
