// Recorded operation usage as the tools read it: a snapshot over a window, from the gateway's
// `gateway_usage` tables or from a file exported from them (`pnpm usage:export`), so a CI
// without production access can check against a copy. The file is validated on read.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from '@trellis/config';

const clientUsage = z.object({
  /** '' when the client sent no (valid) name. */
  name: z.string(),
  version: z.string(),
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
  /** Start of the last time bucket with a request (ISO-8601). */
  lastSeen: z.string(),
});

const operationUsage = z.object({
  hash: z.string(),
  name: z.string(),
  type: z.string(),
  coordinates: z.array(z.string()),
  clients: z.array(clientUsage),
});

export const usageSnapshotSchema = z.object({
  format: z.literal('trellis-usage-snapshot'),
  version: z.literal(1),
  /** Where it was read: `database` or a file path. */
  source: z.string(),
  generatedAt: z.string(),
  since: z.string(),
  windowDays: z.number().int().min(1),
  totalRequests: z.number().int().min(0),
  operations: z.array(operationUsage),
});

export type UsageSnapshot = z.infer<typeof usageSnapshotSchema>;
export type OperationUsage = z.infer<typeof operationUsage>;
export type ClientUsage = z.infer<typeof clientUsage>;

export class UsageFileError extends Error {
  override name = 'UsageFileError';
}

export function readUsageFile(path: string): UsageSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageFileError(`usage file ${path} cannot be read: ${(error as Error).message}`);
  }
  const parsed = usageSnapshotSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageFileError(`usage file ${path} is not a trellis-usage-snapshot: ${parsed.error.issues[0]?.message}`);
  return { ...parsed.data, source: path };
}

export function writeUsageFile(path: string, snapshot: UsageSnapshot): void {
  writeFileSync(path, `${JSON.stringify(snapshot, null, 2)}\n`);
}

/** A snapshot narrowed to a shorter window than it was taken over (by each client's last seen). */
export function withinDays(snapshot: UsageSnapshot, windowDays: number, now = new Date()): UsageSnapshot {
  if (windowDays >= snapshot.windowDays) return snapshot;
  const since = new Date(now.getTime() - windowDays * 86_400_000);
  const operations = snapshot.operations
    .map((op) => ({ ...op, clients: op.clients.filter((c) => new Date(c.lastSeen) >= since) }))
    .filter((op) => op.clients.length > 0);
  const totalRequests = operations.reduce((n, op) => n + requestsOf(op), 0);
  return { ...snapshot, windowDays, since: since.toISOString(), totalRequests, operations };
}

/** Operations in the snapshot touching any of `coordinates`, most requested first. */
export function operationsUsing(snapshot: UsageSnapshot, coordinates: readonly string[]): OperationUsage[] {
  const wanted = new Set(coordinates);
  return snapshot.operations
    .filter((op) => op.coordinates.some((c) => wanted.has(c)))
    .sort((a, b) => requestsOf(b) - requestsOf(a));
}

export const requestsOf = (op: OperationUsage) => op.clients.reduce((n, c) => n + c.requests, 0);

/** `name version` of a client as people read it. */
export const clientLabel = (c: Pick<ClientUsage, 'name' | 'version'>) =>
  c.name ? `${c.name}${c.version ? ` ${c.version}` : ''}` : '(no client name)';
