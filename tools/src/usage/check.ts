// The usage-aware half of `pnpm schema:check`: classifies the breaking changes found by
// checkSchemas() against recorded usage and the clients' manifests, prints them (text, or
// `--json`), and says whether the check passes. Without usage data it says so and keeps the
// old rule: every breaking change needs an acknowledgement.
import { acknowledgement, apiSchemaOf } from '@trellis/composition/changes';
import type { CheckResult } from '../schema-check.ts';
import { type ClassifiedChange, classifyChanges } from './classify.ts';
import { manifestUses } from './manifests.ts';
import { clientLabel, UsageFileError, type UsageSnapshot } from './snapshot.ts';
import { type LoadedUsage, loadUsage, usageOptions } from './source.ts';

export interface UsageCheck {
  base: string;
  usage: Omit<UsageSnapshot, 'operations'> | null;
  /** Why usage was not used (null when it was). */
  noUsage: string | null;
  breaking: ClassifiedChange[];
  dangerous: CheckResult['changes'];
  failed: ClassifiedChange[];
}

export function usageCheck(result: CheckResult, loaded: LoadedUsage, acknowledged: ReadonlySet<string>): UsageCheck {
  const manifests = result.baseSupergraph ? manifestUses(apiSchemaOf(result.baseSupergraph)) : [];
  const breaking = classifyChanges(
    result.changes,
    acknowledged,
    loaded.snapshot,
    manifests,
    apiSchemaOf(result.supergraph),
  );
  const { operations: _operations, ...usage } = loaded.snapshot ?? { operations: [] };
  return {
    base: result.base,
    usage: loaded.snapshot ? (usage as Omit<UsageSnapshot, 'operations'>) : null,
    noUsage: loaded.snapshot ? null : (loaded.missing ?? 'no usage data'),
    breaking,
    dangerous: result.changes.filter((c) => c.severity === 'dangerous'),
    failed: breaking.filter((c) => c.verdict === 'used' || c.verdict === 'unverified'),
  };
}

const MARK: Record<ClassifiedChange['verdict'], string> = {
  used: 'BREAKING (used)',
  unverified: 'BREAKING',
  safe: 'breaking (unused: safe)',
  acknowledged: 'breaking (acknowledged)',
};

/** The classification as people read it (the footer, on stderr, says what to do about failures). */
export function usageCheckText(check: UsageCheck): string {
  const lines: string[] = [];
  lines.push(
    check.usage
      ? `usage: ${check.usage.totalRequests} requests over the last ${check.usage.windowDays} days (${check.usage.source})`
      : `usage: none — ${check.noUsage}; every breaking change needs an acknowledgement`,
  );
  for (const change of check.breaking) {
    lines.push(`${MARK[change.verdict]}  ${change.scope}: ${change.description}`, `    ${change.type}: ${change.why}`);
    if (change.verdict === 'safe') lines.push(`    evidence: ${change.evidence}`);
    for (const op of change.operations.slice(0, 10)) {
      lines.push(`    operation ${op.name} — ${op.requests} requests`);
      for (const c of op.clients.slice(0, 5))
        lines.push(`      ${clientLabel(c)}: ${c.requests} requests, ${c.errors} errors, last seen ${c.lastSeen}`);
    }
    for (const m of change.manifests) lines.push(`    client ${m.client}: trusted document ${m.operation}`);
  }
  for (const change of check.dangerous)
    lines.push(`dangerous  ${change.scope}: ${change.description}`, `    ${change.type}: ${change.why}`);
  return `${lines.join('\n')}\n`;
}

/** What to do about the changes that fail the check ('' when none do). */
export function usageCheckFooter(check: UsageCheck, ackFile: string): string {
  if (check.failed.length === 0) return '';
  return `\n${check.failed.length} breaking change(s) against ${check.base} that clients may use. If intended, add these lines to ${ackFile}:\n${check.failed.map(acknowledgement).join('\n')}\n`;
}

/** Reads the usage flags of argv, classifies, prints; returns the exit code. */
export async function reportWithUsage(
  result: CheckResult,
  acknowledged: ReadonlySet<string>,
  argv: readonly string[],
  ackFile: string,
): Promise<number> {
  let options: ReturnType<typeof usageOptions>;
  try {
    options = usageOptions(argv);
  } catch (error) {
    process.stderr.write(
      `schema:check: ${(error as Error).message}\nusage: pnpm schema:check [--base REF] [--usage FILE] [--window-days N] [--json]\n`,
    );
    return 2;
  }
  let loaded: LoadedUsage;
  try {
    loaded = await loadUsage(options);
  } catch (error) {
    if (!(error instanceof UsageFileError)) throw error;
    process.stderr.write(`schema:check: ${error.message}\n`);
    return 1;
  }
  const check = usageCheck(result, loaded, acknowledged);
  if (argv.includes('--json'))
    process.stdout.write(`${JSON.stringify({ ...check, ok: check.failed.length === 0 }, null, 2)}\n`);
  else {
    process.stdout.write(usageCheckText(check));
    process.stderr.write(usageCheckFooter(check, ackFile));
  }
  return check.failed.length ? 1 : 0;
}
