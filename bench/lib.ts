// Shared by the benchmarks: timing statistics, machine description, and writing a
// section of docs/benchmarks.md (each benchmark owns one section, replaced on each run).
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns milliseconds per run. */
export async function time(fn: () => Promise<unknown>, runs: number, warmup = Math.ceil(runs / 10)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let pg = '';
  try {
    pg = execSync('psql --version', { encoding: 'utf8' }).trim();
  } catch {}
  return `${cpus().length} × ${cpu}, Node ${process.version}${pg ? `, ${pg}` : ''}`;
}

export const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

/** Replaces (or appends) the section between `<!-- bench:NAME -->` markers. */
export function writeSection(name: string, markdown: string): void {
  const path = join(ROOT, 'docs', 'benchmarks.md');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let doc = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmarks\n\nEach section is written by the benchmark named in it; rerun the command to refresh it.\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const at = doc.indexOf(start);
  doc =
    at === -1
      ? `${doc.trimEnd()}\n\n${block}\n`
      : `${doc.slice(0, at)}${block}${doc.slice(doc.indexOf(end) + end.length)}`;
  writeFileSync(path, doc);
}
