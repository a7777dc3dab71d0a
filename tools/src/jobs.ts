// `pnpm jobs:status`: every job queue of every subgraph with jobs (depth, active, oldest
// waiting age, failed, dead letters). `pnpm jobs:redrive <subgraph> <queue> [--limit N]`:
// moves that queue's dead letters back to it (same message ids, so effects already done
// are skipped by the handlers' processed-message records).
import { numberOption, parseCommand, usageError } from '@trellis/config/cli';
import type { queueStats } from '@trellis/jobs';
import type { AnyDefinition } from './subgraphs.ts';

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

const STATUS = {
  command: 'pnpm jobs:status',
  usage: '',
  help: 'Every job queue of every subgraph with jobs: depth, active, oldest waiting age, failed,\ndead letters, completed. Takes no arguments.',
  options: {},
} as const;

const REDRIVE = {
  command: 'pnpm jobs:redrive',
  usage: '<subgraph> <queue> [--limit N]',
  help: `Moves that queue's dead letters back to it (same message ids: effects already done are
skipped by the handlers' processed-message records).

  --limit N   move at most N dead letters (default: all)`,
  options: { limit: { type: 'string' } },
  positionals: [2, 2],
} as const;

const JOBS = {
  command: 'node --import tsx tools/src/jobs.ts',
  usage: 'status | redrive <subgraph> <queue> [--limit N]',
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'status' && command !== 'redrive')
    usageError(JOBS, command === undefined ? 'missing command' : `unknown command '${command}'`);
  let target: { subgraph: string; queue: string; limit: number | undefined } | undefined;
  if (command === 'status') parseCommand(STATUS, rest);
  else {
    const { values, positionals } = parseCommand(REDRIVE, rest);
    const limit = numberOption(REDRIVE, 'limit', values.limit, { min: 1, integer: true });
    target = { subgraph: positionals[0] ?? '', queue: positionals[1] ?? '', limit };
  }
  // Loaded only once the arguments are good: `--help` and refusals answer without them.
  const { postgres } = await import('@trellis/db');
  const { queueStats, redrive } = await import('@trellis/jobs');
  const { openToolDatabase } = await import('./database.ts');
  const { loadDefinitions } = await import('./subgraphs.ts');
  const withJobs = (await loadDefinitions()).filter(
    (d): d is AnyDefinition & { jobs: NonNullable<AnyDefinition['jobs']> } => Boolean(d.jobs),
  );
  const definition = target && withJobs.find((d) => d.name === target.subgraph);
  if (target && !definition)
    usageError(
      REDRIVE,
      `no subgraph with jobs named '${target.subgraph}' (subgraphs with jobs: ${withJobs.map((d) => d.name).join(', ')})`,
    );
  const database = await openToolDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  try {
    if (target && definition) {
      const moved = await redrive(
        sql,
        definition.jobs,
        target.queue,
        target.limit === undefined ? {} : { limit: target.limit },
      );
      process.stdout.write(`${target.subgraph}/${target.queue}: moved ${moved} dead letter(s) back to the queue\n`);
      return 0;
    }
    const rows: Record<string, string | number>[] = [];
    for (const each of withJobs) {
      let stats: Awaited<ReturnType<typeof queueStats>>;
      try {
        stats = await queueStats(sql, each.jobs);
      } catch (error) {
        process.stderr.write(`${each.name}: ${(error as Error).message} (not migrated yet?)\n`);
        continue;
      }
      for (const s of stats) {
        rows.push({
          subgraph: each.name,
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
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  } finally {
    await sql.end({ timeout: 2 });
    await database.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
