// Writes a suite's latest results into docs/reliability.md: each suite owns one section
// between `<!-- suite:<id> -->` markers and replaces only that, so suites run separately.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../src/workspace.ts';

export const RELIABILITY_PATH = join(ROOT, 'docs', 'reliability.md');

export interface SuiteResult {
  /** Section id, e.g. `soak`. */
  id: string;
  title: string;
  command: string;
  /** Whether every pass criterion held in this run. */
  passed: boolean;
  /** Markdown lines: figures and criteria. */
  lines: string[];
}

function machine(): string {
  const cores = cpus();
  const load = loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average at the end ${load}`;
}

export function renderSection(result: SuiteResult, now = new Date()): string {
  return [
    `<!-- suite:${result.id} -->`,
    `### ${result.title}`,
    '',
    `- Result: **${result.passed ? 'PASS' : 'FAIL'}**`,
    `- Date: ${now.toISOString()}`,
    `- Machine: ${machine()}`,
    `- Command: \`${result.command}\``,
    ...result.lines,
    `<!-- /suite:${result.id} -->`,
  ].join('\n');
}

/** Replaces (or appends) the section of `result.id` in docs/reliability.md. */
export async function recordResult(result: SuiteResult, path = RELIABILITY_PATH): Promise<void> {
  const current = existsSync(path) ? await readFile(path, 'utf8') : '# Reliability\n';
  const section = renderSection(result);
  const pattern = new RegExp(`<!-- suite:${result.id} -->[\\s\\S]*?<!-- /suite:${result.id} -->`);
  const next = pattern.test(current) ? current.replace(pattern, () => section) : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(path, next);
}

/** Milliseconds with one decimal. */
export const ms = (value: number): string => `${value.toFixed(1)} ms`;
/** Bytes as MiB with one decimal. */
export const mib = (value: number): string => `${(value / 2 ** 20).toFixed(1)} MiB`;
