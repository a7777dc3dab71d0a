import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { freePort } from '@trellis/db/embedded';
import { DEFAULT_SAMPLE_RATIO } from '../packages/telemetry/src/env.ts';
import {
  GATEWAY_COMMAND,
  machine,
  parseBenchArgs,
  runSharedBench,
  SHARED_BENCH_HELP,
  type SharedBenchMedians,
  writeSection,
} from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:tracing',
  usage: '[--rounds 2] [--duration 20] [--warmup 10] [--bench DIR] [--results FILE]',
  help: `Gateway throughput on ../shared/bench with tracing off, at the default sampling and at 100 %
(an OTLP sink in process). Writes the tracing section of docs/benchmarks.md. Build the gateway
first (pnpm build).

${SHARED_BENCH_HELP}`,
  options: {
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '10' },
    bench: { type: 'string', default: '/tmp/bench-tracing' },
    results: { type: 'string' },
  },
});
const benchDir = values.bench;

type Medians = SharedBenchMedians;

interface Sink {
  received: number;
  exports: number;
}

async function measure(): Promise<string> {
  // 1. An OTLP/HTTP sink: accepts and discards, as a collector would (bytes counted).
  let received = 0;
  let exports = 0;
  const sink = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const sinkPort = await freePort();
  await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));

  const common = `RESPONSE_CACHE=off OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${sinkPort}`;
  // 2. The gateway as production runs it (the build, telemetry preload), targets alternated.
  const latest = await runSharedBench(benchDir, values, {
    off: `env ${common} OTEL_SDK_DISABLED=true ${GATEWAY_COMMAND}`,
    default: `env ${common} ${GATEWAY_COMMAND}`,
    full: `env ${common} OTEL_TRACES_SAMPLER=parentbased_always_on ${GATEWAY_COMMAND}`,
  });
  sink.close();
  // The sink's figures beside the run's results, for re-rendering.
  writeFileSync(`${latest}.sink.json`, JSON.stringify({ received, exports } satisfies Sink));
  return latest;
}

const resultsFile = values.results ?? (await measure());
const { medians, settings, runs } = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
  medians: Record<'off' | 'default' | 'full', Medians>;
  settings: { connections: number; duration: number; warmup: number; rounds: number };
  runs: { loadavg1?: number }[];
};
const loads = runs.map((r) => r.loadavg1 ?? 0);
const sinkFile = `${resultsFile}.sink.json`;
const sink: Sink | undefined = existsSync(sinkFile) ? JSON.parse(readFileSync(sinkFile, 'utf8')) : undefined;

// 3. The section. Throughput is the target's measure; CPU per request is the one that
// survives a busy machine (a gateway that does not get its core loses req/s to the others).
const off = medians.off;
const cost = (m: Medians) => (1 - m.rps / off.rps) * 100;
const cpuCost = (m: Medians) => (m.cpuMsPerReq / off.cpuMsPerReq - 1) * 100;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
const starved = Math.min(...Object.values(medians).map((m) => m.gatewayCpuPct)) < 90;
const row = (label: string, m: Medians) =>
  `| ${label} | ${m.rps.toFixed(1)} | ${m.p50.toFixed(0)} | ${m.p99.toFixed(0)} | ${m.errors} | ${m.peakRssMB.toFixed(0)} | ${m.gatewayCpuPct.toFixed(0)} % | ${m.cpuMsPerReq.toFixed(2)} | ${m === off ? '—' : `${cost(m).toFixed(1)} %`} | ${m === off ? '—' : pct(cpuCost(m))} |`;
const verdict = (m: Medians, target: number) =>
  `throughput ${cost(m).toFixed(1)} %${starved ? ' (not meaningful here, see below)' : cost(m) <= target ? ' ✔' : ' ✘'}, CPU per request ${pct(cpuCost(m))} ${cpuCost(m) <= target ? '✔' : '✘'} (target ≤ ${target} %)`;
const rounds = settings.rounds;
writeSection(
  'tracing',
  `## Tracing overhead at the gateway (issue 6)

${new Date().toISOString().slice(0, 10)} · ${machine()} · \`pnpm bench:tracing --rounds ${rounds} --duration ${settings.duration} --warmup ${settings.warmup}\` ·
the shared federation benchmark (\`../shared/bench\`, ${settings.connections} connections, targets alternated in one run,
gateway pinned to CPU 1), the built gateway (\`gateway/dist/main.mjs\` with the \`dist/setup.mjs\` preload,
response cache off), exporting OTLP/HTTP to a local sink that accepts everything${sink ? ` (${(sink.received / 1e6).toFixed(0)} MB in ${sink.exports} exports over the run)` : ''}.
1-minute load average when the section was written: ${loadavg()[0]?.toFixed(2)}; medians of ${rounds} round${rounds === 1 ? '' : 's'} (run-to-run spread on this machine is about ±8 %).

| target | req/s | p50 ms | p99 ms | errors | peak RSS MB | gw CPU | gw ms CPU/req | throughput cost | CPU/req cost |
|---|---|---|---|---|---|---|---|---|---|
${row('tracing off (`OTEL_SDK_DISABLED=true`)', off)}
${row(`default sampling (parent-based, ${DEFAULT_SAMPLE_RATIO * 100} % of new traces)`, medians.default)}
${row('100 % sampling (`OTEL_TRACES_SAMPLER=parentbased_always_on`)', medians.full)}

Default sampling: ${verdict(medians.default, 5)}. 100 % sampling: ${verdict(medians.full, 15)}.
${
  starved
    ? `
**This run cannot judge throughput.** The gateway never had its core to itself (gw CPU below
90 %: other processes shared both cores, 1-minute load average ${Math.min(...loads).toFixed(0)}–${Math.max(...loads).toFixed(0)} during the runs), so req/s and
p99 measure the machine's load at that moment, not tracing; CPU per request is the
comparable figure, and it is noisy too. Rerun on a quiet machine for the throughput verdict.`
    : ''
}
`,
);
console.log(`\ntracing section written to docs/benchmarks.md (${resultsFile})`);
