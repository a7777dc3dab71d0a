// `pnpm jobs:status`: every job queue of every subgraph with jobs (depth, active, oldest
// waiting age, failed, dead letters). `pnpm jobs:redrive <subgraph> <queue> [--limit N]`:
// moves that queue's dead letters back to it (same message ids, so effects already done
// are skipped by the handlers' processed-message records).
import { postgres } from '@trellis/db';
import { queueStats, redrive } from '@trellis/jobs';
import { openToolDatabase } from './database.ts';
import { type AnyDefinition, loadDefinitions } from './subgraphs.ts';

function table(rows: Record<string, string | number>[]): string {
  const first = rows[0];
  if (!first) return '';
  const columns = Object.keys(first);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => String(r[c]))))].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const withJobs = (await loadDefinitions()).filter(
    (d): d is AnyDefinition & { jobs: NonNullable<AnyDefinition['jobs']> } => Boolean(d.jobs),
  );
  const database = await openToolDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  try {
    if (command === 'status') {
      const rows: Record<string, string | number>[] = [];
      for (const definition of withJobs) {
        let stats: Awaited<ReturnType<typeof queueStats>>;
        try {
          stats = await queueStats(sql, definition.jobs);
        } catch (error) {
          process.stderr.write(`${definition.name}: ${(error as Error).message} (not migrated yet?)\n`);
          continue;
        }
        for (const s of stats) {
          rows.push({
            subgraph: definition.name,
            queue: s.queue,
            depth: s.depth,
            active: s.active,
            'oldest (s)': s.oldestAgeSeconds.toFixed(1),
            failed: s.failed,
            'dead letters': s.deadLetters,
            completed: s.completed,
          });
        }
      }
      process.stdout.write(`${rows.length ? table(rows) : 'no job queues'}\n`);
      return 0;
    }
    if (command === 'redrive') {
      const [subgraphName, queueName] = rest.filter((arg) => !arg.startsWith('--'));
      const limitAt = rest.indexOf('--limit');
      const limit = limitAt === -1 ? undefined : Number(rest[limitAt + 1]);
      const definition = withJobs.find((d) => d.name === subgraphName);
      if (!definition || !queueName) {
        process.stderr.write(
          `usage: pnpm jobs:redrive <subgraph> <queue> [--limit N]; subgraphs with jobs: ${withJobs.map((d) => d.name).join(', ')}\n`,
        );
        return 2;
      }
      const moved = await redrive(sql, definition.jobs, queueName, limit === undefined ? {} : { limit });
      process.stdout.write(`${subgraphName}/${queueName}: moved ${moved} dead letter(s) back to the queue\n`);
      return 0;
    }
    process.stderr.write('usage: jobs.ts status | redrive <subgraph> <queue> [--limit N]\n');
    return 2;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  } finally {
    await sql.end({ timeout: 2 });
    await database.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
