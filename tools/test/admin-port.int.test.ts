// A subgraph with ADMIN_PORT serves /metrics on that port only; its public port keeps
// GraphQL and health (the gateway's side: gateway/test/admin-port.test.ts).
import { startSubgraph } from '@trellis/subgraph-kit';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadDefinition } from '../src/subgraphs.ts';
import { listSubgraphs } from '../src/workspace.ts';

let database: TestDatabase;
let running: Awaited<ReturnType<typeof startSubgraph>>;
beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'trellis_admin_port');
  const info = listSubgraphs().find((s) => s.name === 'accounts')!;
  running = await startSubgraph((await loadDefinition(info)) as never, {
    port: 0,
    adminPort: 0,
    databaseUrl: database.url,
    nodeEnv: 'test',
  });
  await running.ready;
});
afterAll(async () => {
  await running?.stop();
  await database?.drop();
});

describe('subgraph internal surface', () => {
  it('serves /metrics on ADMIN_PORT and not on the public port', async () => {
    expect(running.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${running.url}/metrics`)).status).toBe(404);
    const metrics = await fetch(`${running.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('trellis_db_pool_connections');
    expect((await fetch(`${running.url}/health/ready`)).status).toBe(200);
  });
});
