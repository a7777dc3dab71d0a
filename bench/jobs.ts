// Benchmark: what enqueueing adds to placeOrder's write, and job throughput. `pnpm bench:jobs`
// (uses DATABASE_URL's server; a throwaway database trellis_bench_jobs). Results:
// docs/benchmarks.md. The machine is shared (2 cores): run it once, not in a loop.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fmt, machine, parseBenchArgs, percentile, time, writeSection } from './lib.ts';

parseBenchArgs({
  command: 'pnpm bench:jobs',
  usage: '',
  help: `What enqueueing adds to placeOrder's write, and job throughput, on DATABASE_URL's server in a
throwaway database trellis_bench_jobs (dropped and recreated). Writes the jobs section of
docs/benchmarks.md. Takes no arguments.`,
  options: {},
});

// Loaded only once the arguments are good: `--help` and refusals answer without them.
const { createDatabase, postgres, withDatabase } = await import('@trellis/db');
const { createJobs, defineQueue, installJobs, processOnce } = await import('@trellis/jobs');
const { handler, startWorker } = await import('@trellis/jobs/worker');
const { z } = await import('zod');
const { processedMessages, schema } = await import('../subgraphs/orders/src/db/schema.ts');
const { enqueueOrderPlaced } = await import('../subgraphs/orders/src/jobs/enqueue.ts');
const { insertOrder } = await import('../subgraphs/orders/src/resolvers/mutation.ts');
const { subgraph: orders } = await import('../subgraphs/orders/src/service.ts');
const { prepareSubgraph } = await import('../tools/src/subgraphs.ts');
const { benchEnv } = await import('./env.ts');

const WRITES = 1000;
const loadBefore = loadavg()[0] ?? 0;
const JOBS = 5000;
const NAME = 'trellis_bench_jobs';

const serverUrl = benchEnv.DATABASE_URL;
const url = withDatabase(serverUrl, NAME);
const admin = postgres(withDatabase(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists ${NAME} with (force)`);
await admin.unsafe(`create database ${NAME}`);

await prepareSubgraph(orders as never, url);
const database = createDatabase({ url, schema, applicationName: 'bench-jobs', max: 4 });
const { db } = database;

// 1. placeOrder's write transaction (order + 3 lines), without and with its confirmation job.
const lines = [1, 2, 3].map((productId) => ({ productId, quantity: 2, unitPriceCents: 1999 }));
const write = (enqueue: boolean) => () =>
  db.transaction((tx) =>
    insertOrder(
      tx,
      { buyerId: 1, idempotencyKey: randomUUID(), requestHash: 'bench', lines },
      enqueue ? (orderId) => enqueueOrderPlaced(tx, orderId) : undefined,
    ),
  );
// Interleaved rounds, so drift on the shared machine hits both sides alike.
const without: number[] = [];
const withJob: number[] = [];
await time(write(false), 100, 0);
await time(write(true), 100, 0);
for (let round = 0; round < 10; round++) {
  without.push(...(await time(write(false), WRITES / 10, 0)));
  withJob.push(...(await time(write(true), WRITES / 10, 0)));
}

// 2. Throughput: JOBS waiting jobs, one worker (concurrency 16, a 16-connection handler pool), handlers
//    that write their processed-message record (the idempotency every handler pays).
const queue = defineQueue({ name: 'bench', payload: z.object({ n: z.number().int() }) });
const jobs = createJobs({ domain: 'benchjobs', queues: [queue] });
await installJobs({ databaseUrl: url, jobs });
const batch = 500;
for (let i = 0; i < JOBS; i += batch) {
  await database.sql.begin(async (tx) => {
    for (let n = i; n < i + batch; n++) await jobs.enqueue(tx, queue, { n });
  });
}
// The handlers' own pool matches the worker's concurrency (as a deployment sizes it), so a
// handler never waits for a connection.
const handlerDatabase = createDatabase({ url, schema, applicationName: 'bench-jobs-handlers', max: 16 });
let done = 0;
let finished: () => void = () => {};
const allDone = new Promise<void>((resolve) => {
  finished = resolve;
});
const started = performance.now();
const worker = await startWorker({
  databaseUrl: url,
  jobs,
  pollIntervalMs: 20,
  handlers: [
    handler(
      queue,
      async (_payload, job) => {
        await processOnce(handlerDatabase.db, processedMessages, job, async () => {});
        if (++done === JOBS) finished();
      },
      { concurrency: 16 },
    ),
  ],
});
await allDone;
const seconds = (performance.now() - started) / 1000;
await worker.stop(5000);
await handlerDatabase.close();
const [{ completed }] = (await database.sql`
  select count(*)::int as completed from benchjobs_jobs.job where name = 'bench' and state = 'completed'`) as unknown as [
  { completed: number },
];
await database.close();
await admin.unsafe(`drop database if exists ${NAME} with (force)`);
await admin.end();

const p50 = (s: number[]) => percentile(s, 50);
const added = p50(withJob) - p50(without);
const rate = JOBS / seconds;
const report = `## Jobs: enqueue cost and throughput (issue 7)

${new Date().toISOString().slice(0, 10)} · ${machine()} · \`pnpm bench:jobs\` · shared machine (2 cores, other engineers' tests running; 1-minute load average ${loadBefore.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end): one run, indicative.

placeOrder's write transaction (order + 3 lines; ${WRITES} runs each, interleaved in 10 rounds), without and with the
jobs enqueued in the same transaction (enqueueOrderPlaced: the confirmation job, the PENDING invoice row and the
invoice job; pg-boss inserts through the transaction):

| write | p50 (ms) | p90 (ms) | p99 (ms) |
|---|---|---|---|
| order + lines | ${fmt(p50(without))} | ${fmt(percentile(without, 90))} | ${fmt(percentile(without, 99))} |
| order + lines + jobs | ${fmt(p50(withJob))} | ${fmt(percentile(withJob, 90))} | ${fmt(percentile(withJob, 99))} |

Added by the enqueue at p50: **${fmt(added)} ms** (target ≤ 2 ms).

Throughput: ${JOBS.toLocaleString('en-US')} waiting jobs drained by one worker (concurrency 16, each handler writing its
processed-message record in its own transaction, fetch → handle → complete per job): ${completed.toLocaleString('en-US')} completed in ${seconds.toFixed(2)} s =
**${Math.round(rate)} jobs/s** (target ≥ 500).
`;
writeSection('jobs', report);
process.stdout.write(report);
process.exit(0);
