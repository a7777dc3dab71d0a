import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '@trellis/testing';
import { startProcessGraph } from './graph.ts';
import { describeSample, runLoad } from './load.ts';
import { mixedOperations } from './operations.ts';

const db = await createTestDatabase('postgres://postgres@127.0.0.1:5432/postgres', 'trellis_dbg');
const graph = await startProcessGraph({ databaseUrl: db.url, gatewayEnv: { RESPONSE_CACHE: 'off' } });
try {
  const { operations, expected } = await mixedOperations();
  const t0 = performance.now();
  const fault = (async () => {
    await sleep(3000);
    await graph.kill('inventory');
    console.log('killed', performance.now() - t0);
    await sleep(4000);
    await graph.restart('inventory');
    console.log('ready', performance.now() - t0);
  })();
  const samples = await runLoad({
    url: graph.url,
    operations,
    concurrency: 4,
    ratePerSecond: 30,
    durationMs: 20000,
    keepBodies: true,
  });
  await fault;
  const bad = samples.filter(
    (s) => s.status !== 200 || s.failure || s.codes.join(',') !== (expected[s.operation] ?? []).join(','),
  );
  for (const s of bad.filter((_, i) => i % 5 === 0))
    console.log(describeSample(s), s.paths.join(' '), JSON.stringify((s.body as any)?.errors?.[0]).slice(0, 300));
  console.log(graph.gateway.process.output().slice(-3000));
} finally {
  await graph.stop();
  await db.drop();
}
