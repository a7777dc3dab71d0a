// What rate limiting costs the gateway (issue 18). Two parts, one run:
// 1. ../shared/bench with three targets alternated: the built gateway with RATE_LIMIT=off,
//    on in memory, and on Redis (response cache off in all three, so every request runs the
//    whole pipeline and pays both spends: admission and estimate). Target: ≥ 0.95× off.
// 2. A limited request's gateway CPU: the built gateway with a budget of 1 point per address,
//    hammered with the storefront's Catalogue by autocannon (every answer a 429), the
//    gateway's CPU time (/proc) over the requests answered. Target: ≤ 1 ms.
// Writes the `rate-limit` section of docs/benchmarks.md.
//
//   pnpm bench:rate-limit [--rounds 2] [--duration 15] [--warmup 5] [--bench /tmp/bench-rate-limit]
//                         [--limited-duration 10] [--connections 20]
//   pnpm bench:rate-limit --results <bench>/.run/rate-limit-….json   (re-render a finished run)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  autocannon,
  canPin,
  GATEWAY_COMMAND,
  machine,
  median,
  parseBenchArgs,
  ROOT,
  readSharedBenchResults,
  runSharedBench,
  SHARED_BENCH_HELP,
  type SharedBenchMedians,
  saveRun,
  sharedBenchOptions,
  writeSection,
} from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:rate-limit',
  usage:
    '[--rounds 2] [--duration 15] [--warmup 5] [--bench DIR] [--limited-duration 10] [--connections 20] [--results FILE]',
  help: `What rate limiting costs the gateway: ../shared/bench with RATE_LIMIT off, on in memory and on
Redis, then the gateway CPU of a refused (429) request. Writes the rate-limit section of
docs/benchmarks.md. Build the gateway first (pnpm build).

${SHARED_BENCH_HELP}
  --limited-duration S  seconds of the refused-request measurement
  --connections N       autocannon connections for it`,
  options: {
    ...sharedBenchOptions('/tmp/bench-rate-limit'),
    'limited-duration': { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
  },
});

// Loaded only once the arguments are good: `--help` and refusals answer without them.
const { freePort } = await import('@trellis/db/embedded');
const { createRateLimiter, DEFAULT_RATE_LIMIT } = await import('@trellis/gateway');
const { storefront } = await import('../tools/src/storefront.ts');
const benchDir = values.bench;
const REDIS_URL = 'redis://127.0.0.1:6379';
type Mode = 'off' | 'memory' | 'redis';

interface Limited {
  requests: number;
  rps: number;
  /** Responses that were 429. */
  limited: number;
  cpuMsPerReq: number;
  p99: number;
}

interface Saved {
  benchResults: string;
  loads: number[];
  limited: { duration: number; connections: number; figures: Record<'memory' | 'redis', Limited> };
  /** CPU of one limiter decision in this process (µs), by store. */
  decisionUs?: Record<'memory' | 'redis', number>;
}

// Part 1: ../shared/bench.
function sharedBench(): Promise<string> {
  const common = 'OTEL_SDK_DISABLED=true RESPONSE_CACHE=off';
  return runSharedBench(benchDir, values, {
    off: `env ${common} RATE_LIMIT=off ${GATEWAY_COMMAND}`,
    memory: `env ${common} RATE_LIMIT=on ${GATEWAY_COMMAND}`,
    redis: `env ${common} RATE_LIMIT=on REDIS_URL=${REDIS_URL} CACHE_NAMESPACE=bench-rl-${Date.now()} ${GATEWAY_COMMAND}`,
  });
}

// Part 2: a limited request's CPU.
const CATALOGUE = storefront('Catalogue');
const BODY = JSON.stringify({ query: CATALOGUE, operationName: 'Catalogue', variables: { first: 20 } });

/** user + system CPU time of a process, in ms (from /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function startLimitedGateway(redis: boolean): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const command = GATEWAY_COMMAND.replace('{supergraph}', join(ROOT, 'supergraph.graphql')).replace(
    '{port}',
    String(port),
  );
  const [node, ...args] = command.split(' ') as [string, ...string[]];
  const pinned = canPin();
  // `env` adds the settings to the inherited environment and execs (the pid stays the gateway's).
  const settings = [
    'NODE_ENV=production',
    'OTEL_SDK_DISABLED=true',
    'RESPONSE_CACHE=off',
    'RATE_LIMIT_ANON_POINTS=1',
    ...(redis ? [`REDIS_URL=${REDIS_URL}`, `CACHE_NAMESPACE=bench-rl-limited-${Date.now()}`] : []),
  ];
  const child = spawn('env', [...settings, ...(pinned ? ['taskset', '-c', '1'] : []), node, ...args], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, url: `${url}/graphql` };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('gateway did not get ready');
}

async function limitedRequests(seconds: number, connections: number): Promise<Saved['limited']> {
  const figures = {} as Record<'memory' | 'redis', Limited>;
  for (const mode of ['memory', 'redis'] as const) {
    const { child, url } = await startLimitedGateway(mode === 'redis');
    try {
      const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      // The budget (1 point) goes on the first request's admission; everything after is refused.
      await post();
      const refused = await post();
      if (refused.status !== 429) throw new Error(`${mode}: expected 429, got ${refused.status}`);
      await autocannon(url, { seconds: 2, connections, body: BODY }); // warm-up
      const before = cpuMs(child.pid as number);
      const r = await autocannon(url, { seconds, connections, body: BODY });
      const spent = cpuMs(child.pid as number) - before;
      figures[mode] = {
        requests: r.requests.total,
        rps: r.requests.total / (r.duration || seconds),
        limited: r.statusCodeStats?.['429']?.count ?? 0,
        cpuMsPerReq: spent / Math.max(1, r.requests.total),
        p99: r.latency.p99,
      };
      console.log(`limited ${mode}: ${JSON.stringify(figures[mode])}`);
    } finally {
      child.kill('SIGTERM');
    }
  }
  return { duration: seconds, connections, figures };
}

// Part 3: one decision's CPU, in process (the limiter alone, no HTTP).
async function decisionCost(): Promise<Record<'memory' | 'redis', number>> {
  const out = {} as Record<'memory' | 'redis', number>;
  for (const store of ['memory', 'redis'] as const) {
    const limiter = createRateLimiter({
      ...DEFAULT_RATE_LIMIT,
      ...(store === 'redis' ? { redisUrl: REDIS_URL, namespace: `bench-rl-decision-${Date.now()}` } : {}),
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // connected
    const key = { kind: 'address' as const, id: '127.0.0.1' };
    const n = store === 'redis' ? 20_000 : 200_000;
    for (let i = 0; i < n / 10; i++) await limiter.spend(key, 1, 'cost');
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) await limiter.spend(key, 1, 'cost');
    const used = process.cpuUsage(before);
    out[store] = (used.user + used.system) / n;
    await limiter.close();
  }
  return out;
}

async function measure(): Promise<string> {
  const loads = [loadavg()[0] ?? 0];
  const benchResults = await sharedBench();
  loads.push(loadavg()[0] ?? 0);
  const limited = await limitedRequests(Number(values['limited-duration']), Number(values.connections));
  loads.push(loadavg()[0] ?? 0);
  const decisionUs = await decisionCost();
  const saved: Saved = { benchResults, loads, limited, decisionUs };
  return saveRun(benchDir, 'rate-limit', saved);
}

// The section.
const savedFile = values.results ?? (await measure());
const saved = JSON.parse(readFileSync(savedFile, 'utf8')) as Saved;
const { medians, settings, runs } = readSharedBenchResults<Mode>(saved.benchResults);
const loads = [...saved.loads, ...runs.map((r) => r.loadavg1 ?? 0)];
const ratio = (x: number) => `${x.toFixed(3)}×`;
const tick = (ok: boolean) => (ok ? '✔' : '✘');
const row = (label: string, m: SharedBenchMedians) =>
  `| ${label} | ${m.rps.toFixed(1)} | ${m.p50.toFixed(0)} | ${m.p99.toFixed(0)} | ${m.errors} | ${m.peakRssMB.toFixed(0)} | ${m.gatewayCpuPct.toFixed(0)} % | ${m.cpuMsPerReq.toFixed(2)} | ${ratio(m.rps / medians.off.rps)} | ${ratio(m.cpuMsPerReq / medians.off.cpuMsPerReq)} |`;
/** The cost as throughput (req/s vs off) and as gateway CPU per request (the steadier figure on a shared machine). */
const verdict = (mode: 'memory' | 'redis') => {
  const rps = medians[mode].rps / medians.off.rps;
  const cpu = medians[mode].cpuMsPerReq / medians.off.cpuMsPerReq;
  return `${mode}: throughput ${ratio(rps)} of off ${tick(rps >= 0.95)}, CPU per request ${ratio(cpu)} ${tick(cpu <= 1.05)}`;
};
const perRun = () =>
  (['off', 'memory', 'redis'] as const)
    .map(
      (mode) =>
        `${mode} ${runs
          .filter((r) => r.target === mode)
          .map((r) => `${r.rps.toFixed(0)}/${r.cpuMsPerReq.toFixed(2)}/${r.gatewayCpuPct.toFixed(0)} %`)
          .join(', ')}`,
    )
    .join('; ');
/**
 * Rounds in which every target's gateway had its core (≥ 90 % CPU): on a shared machine the
 * only rounds whose req/s compare the gateways rather than the neighbours.
 */
const modes = ['off', 'memory', 'redis'] as const;
const cleanRounds = [...new Set(runs.map((r) => r.round))].filter((round) =>
  modes.every((mode) => runs.some((r) => r.round === round && r.target === mode && r.gatewayCpuPct >= 90)),
);
const cleanRatio = (mode: 'memory' | 'redis', field: 'rps' | 'cpuMsPerReq') =>
  median(
    cleanRounds.map((round) => {
      const of = (target: string) => runs.find((r) => r.round === round && r.target === target)?.[field] ?? Number.NaN;
      return of(mode) / of('off');
    }),
  );
const cleanVerdict = (mode: 'memory' | 'redis') => {
  const rps = cleanRatio(mode, 'rps');
  const cpu = cleanRatio(mode, 'cpuMsPerReq');
  return `${mode}: throughput ${ratio(rps)} ${tick(rps >= 0.95)}, CPU per request ${ratio(cpu)} ${tick(cpu <= 1.05)}`;
};
/** Did the gateway get its CPU? Below ~90 % it was waiting for a core other processes held. */
const starved = Math.min(...(['off', 'memory', 'redis'] as const).map((m) => medians[m].gatewayCpuPct)) < 90;
const l = saved.limited;
const lrow = (label: string, f: Limited) =>
  `| ${label} | ${f.rps.toFixed(0)} | ${f.limited} / ${f.requests} | ${f.p99.toFixed(0)} | **${f.cpuMsPerReq.toFixed(3)}** ${tick(f.cpuMsPerReq <= 1)} |`;
writeSection(
  'rate-limit',
  `## Rate limiting: cost to the gateway (issue 18)

${new Date().toISOString().slice(0, 10)} · ${machine()} · \`pnpm bench:rate-limit --rounds ${settings.rounds} --duration ${settings.duration} --warmup ${settings.warmup} --limited-duration ${l.duration} --connections ${l.connections}\` ·
machine shared with other engineers (1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the run): medians of ${settings.rounds} rounds.

**Throughput with rate limiting on** (\`../shared/bench\`, the 87 KB deep query, ${settings.connections} connections,
${settings.warmup} s warm-up + ${settings.duration} s measured, targets alternated in one run, gateway pinned to CPU 1): the built
gateway (\`gateway/dist/main.mjs\`, \`dist/setup.mjs\` preload, \`OTEL_SDK_DISABLED=true\`,
\`RESPONSE_CACHE=off\` so every request runs the whole pipeline) with \`RATE_LIMIT=off\`, on in memory, and
on Redis (\`REDIS_URL=${REDIS_URL}\`). With the default budgets nothing is refused (errors 0: every
answer byte-identical to the reference); each request spends its admission point and its
estimated cost, i.e. two limiter decisions (two Redis round trips on Redis).

| target | req/s | p50 ms | p99 ms | errors | peak RSS MB | gw CPU | gw ms CPU/req | req/s vs off | CPU/req vs off |
|---|---|---|---|---|---|---|---|---|---|
${row('`RATE_LIMIT=off`', medians.off)}
${row('rate limits in memory', medians.memory)}
${row('rate limits on Redis', medians.redis)}

Targets (≤ 5 % cost: req/s ≥ 0.95× and CPU per request ≤ 1.05× of off), medians of all rounds: ${verdict('memory')}; ${verdict('redis')}.${
    cleanRounds.length
      ? `
Rounds in which all three gateways had their core (≥ 90 % CPU; round ${cleanRounds.join(', ')}), ratios to off in the same round: ${cleanVerdict('memory')}; ${cleanVerdict('redis')}.`
      : `
No round had all three gateways at ≥ 90 % CPU.`
  }${
    starved
      ? `

The gateway did not get a whole core in every round (gw CPU below 90 %: other work on the
machine held CPU 1). Then req/s measures that contention more than the gateway, and CPU per
request rises too (shared caches, scheduling), by less; only rounds where every target had its
core compare the gateways themselves. Per run (req/s / ms CPU per request / gw CPU): ${perRun()}.`
      : ''
  }

**A limited request** (the built gateway as above, \`RATE_LIMIT_ANON_POINTS=1\`, pinned to CPU 1;
autocannon on CPU 0, ${l.connections} connections, ${l.duration} s, the storefront's \`Catalogue\`): after the first
request every answer is a 429 at admission, before parsing. Gateway CPU per request from
\`/proc/<pid>/stat\` (user + system) over the measured window. Target ≤ 1 ms:

| store | 429/s | 429 / requests | p99 ms | gw ms CPU per limited request |
|---|---|---|---|---|
${lrow('memory', l.figures.memory)}
${lrow('Redis (over-budget keys answered from memory)', l.figures.redis)}
${
  saved.decisionUs
    ? `
**One limiter decision**, in process (the limiter alone, 200,000 decisions in memory, 20,000 on Redis):
${saved.decisionUs.memory.toFixed(1)} µs of CPU in memory, ${saved.decisionUs.redis.toFixed(1)} µs on Redis (node-redis, the atomic Lua increment). A request
that reaches Apollo makes two (admission and estimate): ${(2 * saved.decisionUs.memory).toFixed(1)} µs / ${(2 * saved.decisionUs.redis).toFixed(1)} µs, i.e. ${((2 * saved.decisionUs.memory) / 10 / medians.off.cpuMsPerReq).toFixed(2)} % / ${((2 * saved.decisionUs.redis) / 10 / medians.off.cpuMsPerReq).toFixed(2)} % of the ${medians.off.cpuMsPerReq.toFixed(2)} ms this benchmark's
request costs with rate limiting off — the rest of the spread above is the machine.
`
    : ''
}`,
);
console.log(`\nrate-limit section written to docs/benchmarks.md (${savedFile})`);
