// `pnpm bench:gateway-profile [--duration S] [--warmup S] [--connections N] [--bench DIR]`:
// where the gateway's CPU goes on ../shared/bench's workload with in-flight deduplication off
// (OPERATION_DEDUP=off SUBGRAPH_DEDUP=off: every request planned, fetched and shaped on its
// own). Runs the deployed command (lib.ts deployedGatewayCommand) under `--cpu-prof`, drives it
// with autocannon, and groups the profile's samples of the measured window by concern. Writes
// its section of docs/benchmarks.md.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '@trellis/db/embedded';
import {
  autocannon,
  deployedGatewayCommand,
  machine,
  parseBenchArgs,
  prepareSharedBench,
  startPinned,
  writeSection,
} from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:gateway-profile',
  usage: '[--duration S] [--warmup S] [--connections N] [--bench DIR]',
  help: `Where the deployed gateway's CPU goes with in-flight deduplication off, on ../shared/bench's
workload: a CPU profile of the measured window, grouped by concern. Writes its section of
docs/benchmarks.md.

  --duration S     seconds profiled under load (after the warm-up)
  --warmup S       seconds of load before the profiled window
  --connections N  autocannon connections
  --bench DIR      where ../shared/bench is copied and installed`,
  options: {
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    bench: { type: 'string', default: '/tmp/bench-gateway' },
  },
});
const benchDir = values.bench;
const seconds = Number(values.duration);
const warmup = Number(values.warmup);
const connections = Number(values.connections);

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      if (response.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within 60 s`);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The concern a profile node's own time belongs to, by the file it runs in. */
function concern(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)' || functionName === '(root)') return 'V8 and native code';
  if (url.includes('/@apollo/gateway/dist/resultShaping')) return '@apollo/gateway: shaping the response';
  if (url.includes('/@apollo/gateway/')) return '@apollo/gateway: executing the plan (merging fetch results)';
  if (url.includes('/@apollo/federation-internals/') || url.includes('/@apollo/query-planner/'))
    return '@apollo/federation-internals and query planner';
  if (url.includes('/@apollo/server/')) return '@apollo/server (request pipeline, JSON.stringify)';
  if (url.includes('/graphql/')) return 'graphql-js';
  if (url.includes('/undici/')) return 'undici (subgraph HTTP client)';
  if (url.includes('/@opentelemetry/') || url.includes('/prom-client/') || url.includes('/pino'))
    return 'telemetry (OpenTelemetry, prom-client, pino)';
  if (url.includes('/gateway/dist/')) return 'Trellis gateway code (fetch path, plugins, HTTP front)';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.startsWith('node:')) return 'Node internals (HTTP, streams, sockets, timers)';
  if (url === '') return 'V8 builtins and native calls (JSON, microtasks, socket writes)';
  return 'other';
}

/** Own time by concern over the last `windowS` seconds of the profile, in ms. */
function byConcern(profile: CpuProfile, windowS: number): Map<string, number> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const from = profile.endTime - windowS * 1e6;
  const totals = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) return;
    const frame = nodes.get(id)?.callFrame ?? { functionName: '', url: '' };
    const key = concern(frame.functionName, frame.url);
    totals.set(key, (totals.get(key) ?? 0) + delta / 1000);
  });
  return totals;
}

prepareSharedBench(benchDir);
const [port, subgraphPort] = [await freePort(), await freePort()];
const { composeSupergraph } = (await import(pathToFileURL(join(benchDir, 'compose.mjs')).href)) as {
  composeSupergraph(baseUrl: string): string;
};
const work = mkdtempSync(join(tmpdir(), 'trellis-profile-'));
const supergraph = join(work, 'supergraph.graphql');
writeFileSync(supergraph, composeSupergraph(`http://127.0.0.1:${subgraphPort}`));
const profiles = join(work, 'profiles');
const command = deployedGatewayCommand().replace('{supergraph}', supergraph).replace('{port}', String(port));
const body = JSON.stringify({ query: readFileSync(join(benchDir, 'query.graphql'), 'utf8') });
const url = `http://127.0.0.1:${port}/graphql`;

const subgraphs = startPinned(`node subgraphs.mjs ${subgraphPort}`, { cwd: benchDir, cpu: 0 });
const gateway = startPinned(command, {
  cwd: benchDir,
  cpu: 1,
  env: {
    RESPONSE_CACHE: 'off',
    OPERATION_DEDUP: 'off',
    SUBGRAPH_DEDUP: 'off',
    NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles}`,
  },
});
let result: Awaited<ReturnType<typeof autocannon>>;
try {
  await ready(url);
  await autocannon(url, { seconds: warmup, connections, body });
  result = await autocannon(url, { seconds, connections, body });
} finally {
  // The profile is written when the process exits: SIGTERM lets it drain and exit.
  gateway.signal('SIGTERM');
  await Promise.race([gateway.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  gateway.signal('SIGKILL');
  subgraphs.signal('SIGKILL');
}
const written = existsSync(profiles) ? readdirSync(profiles).filter((file) => file.endsWith('.cpuprofile')) : [];
// The main thread's profile is the largest (workers, e.g. the telemetry loader's, are small).
const main = written
  .map((file) => ({ file, size: readFileSync(join(profiles, file)).length }))
  .sort((a, b) => b.size - a.size)[0];
if (!main) throw new Error(`no CPU profile was written to ${profiles}`);
const profile = JSON.parse(readFileSync(join(profiles, main.file), 'utf8')) as CpuProfile;
// The window ends at exit: the load's last `seconds` plus the drain after it (idle).
const totals = byConcern(profile, seconds + 1);
const busy = [...totals].filter(([key]) => !key.startsWith('idle')).reduce((sum, [, ms]) => sum + ms, 0);
const requests = result.requests.total;
const rows = [...totals]
  .filter(([key]) => !key.startsWith('idle'))
  .sort((a, b) => b[1] - a[1])
  .map(([key, ms]) => `| ${key} | ${((100 * ms) / busy).toFixed(1)} % | ${(ms / requests).toFixed(2)} |`)
  .join('\n');

writeSection(
  'gateway-profile',
  `## Where the gateway's CPU goes without deduplication (\`pnpm bench:gateway-profile\`)

The deployed command (as in \`pnpm bench:gateway\`) with \`OPERATION_DEDUP=off SUBGRAPH_DEDUP=off\`
and \`--cpu-prof\`, on ../shared/bench's workload: every request planned (from the plan cache),
fetched (about 16 subgraph fetches) and shaped on its own. ${machine()}; ${connections}
connections, ${warmup} s of warm-up, then ${seconds} s profiled: ${requests} requests
(${(requests / seconds).toFixed(1)} req/s, p99 ${result.latency.p99} ms, ${result.non2xx + result.errors} errors).
Own CPU time of the profiled window by concern (idle excluded), and per request:

| concern | share of busy CPU | ms per request |
|---|---|---|
${rows}
| **total** | 100 % | ${(busy / requests).toFixed(2)} |`,
);
process.stdout.write(`profile: ${join(profiles, main.file)}\n`);
