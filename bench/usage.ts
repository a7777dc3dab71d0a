// What operation usage reporting costs the gateway (issue 20): ../shared/bench's workload
// (its subgraphs, its 87 KB deep query, 50 connections) against the built gateway with usage
// recording off and on, alternated in one run (response cache off: every request planned
// and fetched). The `on` gateway flushes to a fresh database on DATABASE_URL every
// --flush-interval seconds; after the run the bench reads what the flushes did from
// Postgres's own statistics of that database (transactions, rows inserted and updated) and
// the requests the usage tables recorded: flush work per minute of load, and rows written
// per million requests. Also measured in process (immune to the machine's load): the
// recorder's work per request (the cached operation shape and the in-memory aggregate).
// Writes the `usage` section of docs/benchmarks.md.
//
//   pnpm bench:usage [--rounds 2] [--duration 15] [--warmup 5] [--flush-interval 10] [--bench /tmp/bench-usage]
//   pnpm bench:usage --results <bench>/.run/usage-….json   (re-render a finished run)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationDefinitionNode } from 'graphql';
import {
  GATEWAY_COMMAND,
  machine,
  parseBenchArgs,
  readSharedBenchResults,
  runSharedBench,
  SHARED_BENCH_HELP,
  saveRun,
  sharedBenchOptions,
  writeSection,
} from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:usage',
  usage: '[--rounds 2] [--duration 15] [--warmup 5] [--flush-interval 10] [--bench /tmp/bench-usage] [--results FILE]',
  help: `What operation usage reporting costs the gateway: ../shared/bench's workload against the
built gateway with usage recording off and on (response cache off), alternated in one run,
plus the recorder's in-process work per request. Writes the usage section of
docs/benchmarks.md.

${SHARED_BENCH_HELP}
  --flush-interval S  seconds between the recording gateway's flushes to Postgres`,
  options: { ...sharedBenchOptions('/tmp/bench-usage'), 'flush-interval': { type: 'string', default: '10' } },
});

// Loaded only once the arguments are good: `--help` and refusals answer without them.
const { apiSchemaOf } = await import('@trellis/composition/changes');
const { postgres } = await import('@trellis/db');
const { describeOperation } = await import('@trellis/gateway/usage');
const { createTestDatabase } = await import('@trellis/testing');
const { parse } = await import('graphql');
const { UsageAggregator } = await import('../gateway/src/usage/aggregator.ts');
const { DEFAULT_USAGE } = await import('../gateway/src/usage/recorder.ts');
const { benchEnv } = await import('./env.ts');
const benchDir = String(values.bench);
const flushSeconds = Number(values['flush-interval']);

interface UsageFigures {
  resultsFile: string;
  settings: { rounds: string; duration: string; warmup: string; flushSeconds: number };
  /** Seconds the `on` gateway was under load (warm-up included: it records then too). */
  loadSeconds: number;
  recordedRequests: number;
  transactions: number;
  rowsInserted: number;
  rowsUpdated: number;
  perRequestUs: { firstSight: number; repeat: number };
}

/** The recorder's in-memory work per request, in µs: a new operation's shape, and a repeat (cached shape + aggregate). */
function perRequestUs(): UsageFigures['perRequestUs'] {
  const schema = apiSchemaOf(readFileSync(join(benchDir, '.run', 'supergraph.graphql'), 'utf8'));
  const document = parse(readFileSync(join(benchDir, 'query.graphql'), 'utf8'));
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  const n = 200_000;
  let started = performance.now();
  for (let i = 0; i < 200; i++) describeOperation(schema, document, operation);
  const firstSight = ((performance.now() - started) * 1000) / 200;
  const shape = describeOperation(schema, document, operation);
  const aggregator = new UsageAggregator(DEFAULT_USAGE);
  const cache = new WeakMap([[document, new Map([['', shape]])]]);
  started = performance.now();
  for (let i = 0; i < n; i++) {
    const cached = cache.get(document)?.get('') ?? shape;
    aggregator.add({
      shape: cached,
      clientName: 'web',
      clientVersion: '1.0.0',
      errors: false,
      durationMs: 20,
      at: Date.now(),
    });
  }
  return { firstSight, repeat: ((performance.now() - started) * 1000) / n };
}

async function run(): Promise<string> {
  const database = await createTestDatabase(benchEnv.DATABASE_URL, 'trellis_bench_usage');
  try {
    const common = 'env OTEL_SDK_DISABLED=true RESPONSE_CACHE=off LOG_LEVEL=warn';
    const file = await runSharedBench(
      benchDir,
      { rounds: String(values.rounds), duration: String(values.duration), warmup: String(values.warmup) },
      {
        'usage-off': `${common} USAGE_REPORTING=off ${GATEWAY_COMMAND}`,
        'usage-on': `${common} USAGE_DATABASE_URL=${database.url} USAGE_FLUSH_INTERVAL_MS=${flushSeconds * 1000} ${GATEWAY_COMMAND}`,
      },
    );
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const [recorded] = await sql<
        { n: string }[]
      >`select coalesce(sum(requests), 0) as n from gateway_usage.operation_usage`;
      const [tables] = await sql<{ ins: string; upd: string }[]>`
        select coalesce(sum(n_tup_ins), 0) as ins, coalesce(sum(n_tup_upd), 0) as upd
        from pg_stat_user_tables where schemaname = 'gateway_usage'`;
      const [db] = await sql<{ xact: string }[]>`
        select xact_commit + xact_rollback as xact from pg_stat_database where datname = current_database()`;
      const settings = {
        rounds: String(values.rounds),
        duration: String(values.duration),
        warmup: String(values.warmup),
      };
      const figures: Omit<UsageFigures, 'perRequestUs'> = {
        resultsFile: file,
        settings: { ...settings, flushSeconds },
        loadSeconds: Number(settings.rounds) * (Number(settings.duration) + Number(settings.warmup)),
        recordedRequests: Number(recorded?.n),
        transactions: Number(db?.xact),
        rowsInserted: Number(tables?.ins),
        rowsUpdated: Number(tables?.upd),
      };
      return saveRun(benchDir, 'usage', figures);
    } finally {
      await sql.end();
    }
  } finally {
    await database.drop();
  }
}

function render(figuresFile: string): void {
  const base = JSON.parse(readFileSync(figuresFile, 'utf8')) as Omit<UsageFigures, 'perRequestUs'>;
  const figures: UsageFigures = { ...base, perRequestUs: perRequestUs() };
  const results = readSharedBenchResults<'usage-off' | 'usage-on'>(figures.resultsFile);
  const off = results.medians['usage-off'];
  const on = results.medians['usage-on'];
  const pairs = results.runs
    .filter((r) => r.target === 'usage-off')
    .map((r) => [r, results.runs.find((o) => o.target === 'usage-on' && o.round === r.round)] as const)
    .filter((pair): pair is readonly [(typeof pair)[0], NonNullable<(typeof pair)[1]>] => pair[1] !== undefined);
  const rpsCost = pairs.length
    ? (pairs.map(([a, b]) => 1 - b.rps / a.rps).sort((x, y) => x - y)[Math.floor(pairs.length / 2)] ?? 0)
    : 0;
  const minutes = figures.loadSeconds / 60;
  const rows = figures.rowsInserted + figures.rowsUpdated;
  // A window that completed no request has no per-request figures (JSON null).
  const num = (x: number | null | undefined, digits: number) =>
    typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
  const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %` : 'n/a');
  const share = (figures.perRequestUs.repeat / 1000 / on.cpuMsPerReq) * 100;
  writeSection(
    'usage',
    `## Operation usage reporting (issue 20)

${new Date().toISOString().slice(0, 10)} · ${machine()} · \`pnpm bench:usage --rounds ${figures.settings.rounds} --duration ${figures.settings.duration} --warmup ${figures.settings.warmup} --flush-interval ${figures.settings.flushSeconds}\`

\`../shared/bench\`'s subgraphs and 87 KB deep query, the built gateway (\`RESPONSE_CACHE=off\`,
\`OTEL_SDK_DISABLED=true\`) with usage reporting off (\`USAGE_REPORTING=off\`) and on
(\`USAGE_DATABASE_URL\` a fresh database, flushed every ${figures.settings.flushSeconds} s), alternated in one run.

| target | req/s | p50 ms | p99 ms | gw ms CPU/req | peak RSS MB | errors |
|---|---|---|---|---|---|---|
| usage off | ${num(off.rps, 1)} | ${num(off.p50, 0)} | ${num(off.p99, 0)} | ${num(off.cpuMsPerReq, 3)} | ${num(off.peakRssMB, 0)} | ${off.errors} |
| usage on | ${num(on.rps, 1)} | ${num(on.p50, 0)} | ${num(on.p99, 0)} | ${num(on.cpuMsPerReq, 3)} | ${num(on.peakRssMB, 0)} | ${on.errors} |
| on vs off (median of per-round pairs) | ${pct(-rpsCost)} | | | ${pct(on.cpuMsPerReq / off.cpuMsPerReq - 1)} | | |

**Flush work**: ${(figures.transactions / minutes).toFixed(1)} transactions and ${(rows / minutes).toFixed(0)} rows upserted per minute of load
(${figures.transactions} transactions, ${figures.rowsInserted} rows inserted and ${figures.rowsUpdated} updated over ${figures.loadSeconds} s; migrations included).
**Rows written per million requests**: ${((rows / Math.max(1, figures.recordedRequests)) * 1e6).toFixed(1)}
(${figures.recordedRequests} requests recorded). One operation and one client: each flush upserts one row per
(hour bucket, operation, client version) plus the operation row, whatever the request rate.

**In process**: a request of an operation already seen costs the recorder ${figures.perRequestUs.repeat.toFixed(2)} µs
(cached shape, in-memory aggregate) — ${share.toFixed(2)} % of the gateway CPU per request above (target: ≤ 3 % of
throughput); the first sight of an operation text costs ${figures.perRequestUs.firstSight.toFixed(0)} µs (its signature and coordinates).
`,
  );
  console.log('\nusage section written to docs/benchmarks.md');
}

if (values.results) render(String(values.results));
else render(await run());
