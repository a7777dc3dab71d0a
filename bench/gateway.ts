// `pnpm bench:gateway [--rounds N] [--duration S] [--warmup S] [--bench DIR] [--results FILE]`:
// the gateway as deployed beside stock @apollo/gateway and Hive Gateway on ../shared/bench's
// workload (four subgraphs, one deep query, 50 connections, response cache off), alternated
// in one run. The command is read from the deployment files (lib.ts deployedGateway: the
// image's CMD, the Kubernetes memory limit), never retyped; it runs with both kinds of in-flight
// deduplication (the default), with OPERATION_DEDUP=off (subgraph fetches still shared), and
// with both off (OPERATION_DEDUP=off SUBGRAPH_DEDUP=off). Writes its section of
// docs/benchmarks.md; `--results FILE` re-renders a saved run.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  BENCH_ANON_BUDGET_ENV,
  deployedGateway,
  deployedGatewayCommand,
  machine,
  parseBenchArgs,
  runSharedBench,
  SHARED_BENCH_HELP,
  type SharedBenchMedians,
  sharedBenchOptions,
  writeSection,
} from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:gateway',
  usage: '[--rounds N] [--duration S] [--warmup S] [--bench DIR] [--results FILE]',
  help: `The gateway as deployed beside stock @apollo/gateway and Hive Gateway on ../shared/bench's
workload (response cache off), with both kinds of in-flight deduplication (the default), with
OPERATION_DEDUP=off, and with OPERATION_DEDUP=off SUBGRAPH_DEDUP=off, alternated in one run. Writes the gateway section of docs/benchmarks.md.

${SHARED_BENCH_HELP}`,
  options: sharedBenchOptions('/tmp/bench-gateway'),
});

type Target = 'apollo' | 'hive' | 'trellis' | 'trellis_fetchdedup' | 'trellis_nodedup';
const command = deployedGatewayCommand();

const resultsFile =
  values.results ??
  (await runSharedBench(values.bench, values, {
    apollo: 'apollo',
    hive: 'hive',
    trellis: `env RESPONSE_CACHE=off ${BENCH_ANON_BUDGET_ENV} ${command}`,
    trellis_fetchdedup: `env RESPONSE_CACHE=off ${BENCH_ANON_BUDGET_ENV} OPERATION_DEDUP=off ${command}`,
    trellis_nodedup: `env RESPONSE_CACHE=off ${BENCH_ANON_BUDGET_ENV} OPERATION_DEDUP=off SUBGRAPH_DEDUP=off ${command}`,
  }));
const { medians, settings, runs } = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
  medians: Record<Target, SharedBenchMedians>;
  settings: { connections: number; duration: number; warmup: number; rounds: number };
  runs: { loadavg1?: number }[];
};

const stock = medians.apollo;
const hive = medians.hive;
/** A figure, or — when the run had none (a target that completed no request has no CPU per request). */
const f = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
const x = (m: SharedBenchMedians, ref: SharedBenchMedians) => (ref.rps > 0 ? `${f(m.rps / ref.rps, 2)}×` : '—');
const row = (label: string, m: SharedBenchMedians) =>
  `| ${label} | ${f(m.rps, 1)} | ${x(m, stock)} | ${x(m, hive)} | ${f(m.cpuMsPerReq, 2)} | ${f(m.p99, 0)} | ${f(m.peakRssMB, 0)} | ${f(m.subgraphFetchesPerReq, 1)} | ${m.errors} |`;
const check = (ok: boolean) => (ok ? '✔' : '✘');
const trellis = medians.trellis;
const loads = runs.map((r) => r.loadavg1 ?? 0);
const { memoryLimit } = deployedGateway();

writeSection(
  'gateway',
  `## Gateway vs stock @apollo/gateway and Hive Gateway (\`pnpm bench:gateway\`)

The gateway as deployed — the command of the image's CMD (also Kubernetes' and compose's),
read from \`ops/Dockerfile\` by the benchmark, under the gateway pod's memory limit from
\`ops/k8s/base/gateway.yaml\` (\`MEMORY_LIMIT=${memoryLimit}\`; \`ops/start.sh\` sizes the V8
heap from it), with its telemetry preload — on \`../shared/bench\`'s workload, response cache
off. In-flight deduplication: \`OPERATION_DEDUP\` shares one execution between identical
queries in flight at once, \`SUBGRAPH_DEDUP\` one subgraph fetch between identical fetches; both
on by default, and this workload (50 clients sending one query) is where they give the most.
Its 50 clients are one address, so every Trellis target runs with \`${BENCH_ANON_BUDGET_ENV}\`: the rate
limiter still decides every request, with a budget that answers them instead of refusing
them (the deployed anonymous budget is about 15,000 of this query a minute).
Command (\`{supergraph}\`/\`{port}\` filled in by the runner):

\`\`\`
${command.replace(/ \/\S*\/ops\/start\.sh /, ' ops/start.sh ')}
\`\`\`

${machine()}; ${settings.rounds} round(s) of ${settings.duration} s after ${settings.warmup} s of warm-up,
${settings.connections} connections, targets alternated; medians. 1-minute load average during the
runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (now ${loadavg()[0]?.toFixed(1)}).

| gateway | req/s | vs stock | vs Hive | CPU ms/req | p99 ms | peak RSS MB | fetches/req | errors |
|---|---|---|---|---|---|---|---|---|
${row('stock `@apollo/gateway`', stock)}
${row('Hive Gateway', hive)}
${row('Trellis, as deployed', trellis)}
${row('Trellis, as deployed, `OPERATION_DEDUP=off`', medians.trellis_fetchdedup)}
${row('Trellis, as deployed, `OPERATION_DEDUP=off SUBGRAPH_DEDUP=off`', medians.trellis_nodedup)}

Floors (issue 15): ≥ 2.5× stock ${check(trellis.rps >= 2.5 * stock.rps)}, ≥ 2× Hive ${check(trellis.rps >= 2 * hive.rps)},
peak RSS ≤ stock's ${check(trellis.peakRssMB <= stock.peakRssMB)}, no errors ${check(trellis.errors === 0)}.`,
);
process.stdout.write(`results: ${resultsFile}\n`);
