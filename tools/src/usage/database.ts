// Reads recorded usage from the gateway's `gateway_usage` tables (and migrates them for
// `pnpm db:migrate`). No tables or no rows in the window is "no usage data", not an error.
import { createDatabase, postgres } from '@trellis/db';
import { migrateUsage, usageTables } from '@trellis/gateway/usage';
import type { UsageSnapshot } from './snapshot.ts';

export async function migrateGatewayUsage(url: string): Promise<void> {
  const database = createDatabase({ url, schema: usageTables, applicationName: 'trellis-usage-tool', max: 2 });
  try {
    await migrateUsage(database);
  } finally {
    await database.close();
  }
}

/** Usage over the last `windowDays`; undefined when the database has no usage tables. */
export async function readUsageDatabase(
  url: string,
  windowDays: number,
  now = new Date(),
): Promise<UsageSnapshot | undefined> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [exists] = await sql<{ present: boolean }[]>`
      select to_regclass('gateway_usage.operation_usage') is not null as present`;
    if (!exists?.present) return undefined;
    const since = new Date(now.getTime() - windowDays * 86_400_000);
    const rows = await sql<
      {
        hash: string;
        name: string;
        type: string;
        client_name: string;
        client_version: string;
        requests: string;
        errors: string;
        last_seen: Date;
      }[]
    >`
      select o.hash, o.name, o.type, u.client_name, u.client_version,
             sum(u.requests)::bigint as requests, sum(u.errors)::bigint as errors, max(u.bucket) as last_seen
      from gateway_usage.operation_usage u join gateway_usage.operations o using (hash)
      where u.bucket >= ${since}
      group by o.hash, o.name, o.type, u.client_name, u.client_version
      order by o.hash, u.client_name, u.client_version`;
    const hashes = [...new Set(rows.map((r) => r.hash))];
    const coordinates = hashes.length
      ? await sql<{ hash: string; coordinate: string }[]>`
          select hash, coordinate from gateway_usage.operation_coordinates
          where hash = any(${hashes}) order by hash, coordinate`
      : [];
    const operations = new Map<string, UsageSnapshot['operations'][number]>();
    for (const row of rows) {
      let op = operations.get(row.hash);
      if (!op) {
        op = { hash: row.hash, name: row.name, type: row.type, coordinates: [], clients: [] };
        operations.set(row.hash, op);
      }
      op.clients.push({
        name: row.client_name,
        version: row.client_version,
        requests: Number(row.requests),
        errors: Number(row.errors),
        lastSeen: row.last_seen.toISOString(),
      });
    }
    for (const { hash, coordinate } of coordinates) operations.get(hash)?.coordinates.push(coordinate);
    const list = [...operations.values()];
    return {
      format: 'trellis-usage-snapshot',
      version: 1,
      source: 'database',
      generatedAt: now.toISOString(),
      since: since.toISOString(),
      windowDays,
      totalRequests: list.reduce((n, op) => n + op.clients.reduce((m, c) => m + c.requests, 0), 0),
      operations: list,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
