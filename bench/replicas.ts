// How gateway replicas behind one Redis add up on one machine (docs/scaling.md, "How far one
// of each goes"): the graph as real processes in production mode (tools/suites/graph.ts),
// one gateway vs two gateway replicas sharing one Redis (response cache on, one namespace),
// the same total connections split across the replicas, alternated in one run:
// - `hit`: the storefront's Catalogue served from the shared cache (gateway + Redis path);
// - `miss`: the same with `Cache-Control: no-store` (every request through the subgraphs and
//   Postgres; no cache read or write).
// Also counted per request: Redis commands (INFO stats) and SQL statements (the subgraphs'
// own trellis_db_query_duration_seconds_count), the figures the capacity arithmetic in
// docs/scaling.md starts from.
// Writes the `replicas` section of docs/benchmarks.md.
//
//   pnpm bench:replicas [--rounds 2] [--duration 10] [--connections 10]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { GraphProcess } from '../tools/suites/graph.ts';
import { autocannon, machine, median, parseBenchArgs, writeSection } from './lib.ts';

const { values } = parseBenchArgs({
  command: 'pnpm bench:replicas',
  usage: '[--rounds 2] [--duration 10] [--connections 10]',
  help: `One vs two gateway replicas behind one Redis (cache hit and uncached Catalogue), with Redis
commands and SQL statements per request. Writes the replicas section of docs/benchmarks.md.

  --rounds N       rounds, workloads alternated in each
  --duration S     seconds per measurement
  --connections N  autocannon connections in total (split across the replicas)`,
  options: {
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
});

// Loaded only once the arguments are good: `--help` and refusals answer without them.
const { createTestDatabase } = await import('@trellis/testing');
const { storefront } = await import('../tools/src/storefront.ts');
const { startProcessGraph } = await import('../tools/suites/graph.ts');
const { benchEnv } = await import('./env.ts');
const rounds = Number(values.rounds);
const seconds = Number(values.duration);
const connections = Number(values.connections);
const REDIS_URL = 'redis://127.0.0.1:6379';
const CATALOGUE = storefront('Catalogue');
const BODY = JSON.stringify({ query: CATALOGUE, operationName: 'Catalogue', variables: { first: 20 } });

type Workload = 'hit' | 'miss';
type Replicas = 1 | 2;
interface Figures {
  rps: number;
  p99: number;
  errors: number;
  redisPerReq: number;
  sqlPerReq: number;
}

/** autocannon in its own process against one gateway (not pinned: the replicas share the cores with it). */
const load = (port: number, workload: Workload, conns: number, duration: number) =>
  autocannon(`http://127.0.0.1:${port}/graphql`, {
    seconds: duration,
    connections: conns,
    body: BODY,
    headers: workload === 'miss' ? { 'cache-control': 'no-store' } : {},
    pin: false,
  });

const redisCommands = () =>
  Number(/total_commands_processed:(\d+)/.exec(execFileSync('redis-cli', ['info', 'stats'], { encoding: 'utf8' }))![1]);

async function main(): Promise<void> {
  const loads = [loadavg()[0]!];
  const database = await createTestDatabase(benchEnv.DATABASE_URL, 'trellis_bench_replicas');
  const graph = await startProcessGraph({
    databaseUrl: database.url,
    gatewayEnv: {
      RESPONSE_CACHE: 'on',
      REDIS_URL,
      CACHE_NAMESPACE: `bench-replicas-${Date.now()}`,
      OTEL_SDK_DISABLED: 'true',
    },
    serviceEnv: { OTEL_SDK_DISABLED: 'true' },
  });
  /** SQL statements the subgraphs have run (their own metric), summed. */
  const statements = async () => {
    let total = 0;
    for (const subgraph of Object.values(graph.subgraphs)) {
      const text = await (await fetch(`http://127.0.0.1:${subgraph.port}/metrics`)).text();
      for (const m of text.matchAll(/^trellis_db_query_duration_seconds_count(?:\{[^}]*\})? (\S+)$/gm))
        total += Number(m[1]);
    }
    return total;
  };
  let sequentialSql = 0;
  const runs: Record<`${Workload}-${Replicas}`, Figures[]> = { 'hit-1': [], 'hit-2': [], 'miss-1': [], 'miss-2': [] };
  try {
    const second = await graph.addGateway();
    const gateways: GraphProcess[] = [graph.gateway, second];
    // Both replicas answer, and the second sees what the first cached (one Redis).
    const send = (port: number) =>
      fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
      });
    const first = await send(gateways[0]!.port);
    if (!first.ok) throw new Error(`Catalogue failed: ${await first.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const shared = (await send(gateways[1]!.port)).headers.get('x-cache');
    if (shared !== 'HIT') throw new Error(`the second replica missed what the first cached (${shared})`);
    // Statements of one uncached Catalogue on its own: under load, concurrent identical requests
    // share subgraph fetches (the gateway's in-flight deduplication, per replica).
    const sqlBefore = await statements();
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`http://127.0.0.1:${gateways[0]!.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: BODY,
      });
      await response.arrayBuffer();
    }
    sequentialSql = ((await statements()) - sqlBefore) / 20;
    for (let round = 0; round < rounds; round++) {
      for (const workload of ['hit', 'miss'] as Workload[]) {
        for (const replicas of [1, 2] as Replicas[]) {
          const targets = gateways.slice(0, replicas);
          await Promise.all(targets.map((g) => load(g.port, workload, Math.ceil(connections / replicas), 2)));
          const [redisBefore, sqlBefore] = [redisCommands(), await statements()];
          const results = await Promise.all(
            targets.map((g) => load(g.port, workload, Math.ceil(connections / replicas), seconds)),
          );
          const [redisAfter, sqlAfter] = [redisCommands(), await statements()];
          const total = results.reduce((sum, r) => sum + r.requests.total, 0);
          const figures: Figures = {
            rps: results.reduce((sum, r) => sum + r.requests.total / (r.duration || seconds), 0),
            p99: Math.max(...results.map((r) => r.latency.p99)),
            errors: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
            redisPerReq: (redisAfter - redisBefore) / Math.max(1, total),
            sqlPerReq: (sqlAfter - sqlBefore) / Math.max(1, total),
          };
          runs[`${workload}-${replicas}`].push(figures);
          loads.push(loadavg()[0]!);
          console.log(
            `${workload} ×${replicas} round ${round + 1}: ${figures.rps.toFixed(0)} req/s p99 ${figures.p99} ms errors ${figures.errors} redis/req ${figures.redisPerReq.toFixed(2)} sql/req ${figures.sqlPerReq.toFixed(2)}`,
          );
        }
      }
    }
  } finally {
    await graph.stop();
    await database.drop();
  }
  const m = (key: keyof typeof runs) => {
    const list = runs[key];
    return {
      rps: median(list.map((r) => r.rps)),
      p99: median(list.map((r) => r.p99)),
      errors: list.reduce((sum, r) => sum + r.errors, 0),
      redisPerReq: median(list.map((r) => r.redisPerReq)),
      sqlPerReq: median(list.map((r) => r.sqlPerReq)),
    };
  };
  const row = (workload: Workload, replicas: Replicas) => {
    const f = m(`${workload}-${replicas}`);
    const ratio = f.rps / m(`${workload}-1`).rps;
    return `| ${workload === 'hit' ? 'Catalogue, cache hit (shared Redis)' : 'Catalogue, uncached (`no-store`)'} | ${replicas} | ${f.rps.toFixed(0)} | ${ratio.toFixed(2)}× | ${f.p99} | ${f.redisPerReq.toFixed(2)} | ${f.sqlPerReq.toFixed(2)} | ${f.errors} |`;
  };
  writeSection(
    'replicas',
    [
      '## Gateway replicas behind one Redis (`pnpm bench:replicas`)',
      '',
      `- Date: ${new Date().toISOString().slice(0, 10)}; machine: ${machine()}; load average (1 min) during the run: ${loads.map((l) => l.toFixed(2)).join(', ')}`,
      `- Command: \`pnpm bench:replicas --rounds ${rounds} --duration ${seconds} --connections ${connections}\``,
      `- The graph as real processes (NODE_ENV=production, tools/suites/graph.ts): five subgraphs on one Postgres, 1 or 2 gateway replicas started as deployed (the production command, tools/src/runtime.ts) sharing one Redis (one CACHE_NAMESPACE); ${connections} connections in total, split evenly across the replicas (one autocannon process per replica), ${seconds} s per run after 2 s of warm-up, ${rounds} rounds alternated; medians. Every process, Postgres, Redis and the load generators share this machine's cores.`,
      '',
      `- One uncached Catalogue on its own runs ${sequentialSql.toFixed(1)} SQL statements across the subgraphs; under load identical concurrent requests share subgraph fetches (in-flight deduplication, per gateway replica), hence fewer per request below.`,
      '',
      '| workload | gateway replicas | req/s | vs 1 replica | p99 ms | Redis commands / request | SQL statements / request | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('hit', 1),
      row('hit', 2),
      row('miss', 1),
      row('miss', 2),
      '',
      'A second replica on the same cores cannot add CPU: the ratio shows what a replica costs or',
      'gains here, not what a second node gives. Capacity per node and per Redis/Postgres is',
      'computed from the per-request figures in docs/scaling.md.',
    ].join('\n'),
  );
}

await main();
