// Usage-aware schema checks end to end: the storefront's operations run through a real
// gateway that records usage, the usage is flushed, then two changes are tried in a scratch
// copy of the schemas — removing a field the storefront uses fails naming the storefront and
// its operation; removing a field nobody used passes as safe, with the evidence. The same
// from an exported usage file, and with no usage data at all (the old rule).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_USAGE } from '@trellis/gateway/usage';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, tokenFor } from '../src/harness.ts';
import { ACK_FILE, checkSchemas } from '../src/schema-check.ts';
import { storefront } from '../src/storefront.ts';
import { usageCheck, usageCheckText } from '../src/usage/check.ts';
import { readUsageDatabase } from '../src/usage/database.ts';
import { writeUsageFile } from '../src/usage/snapshot.ts';
import { loadUsage } from '../src/usage/source.ts';
import { type SchemaRepository, schemaRepository } from './support/schema-repository.ts';

const STOREFRONT = { 'apollographql-client-name': 'trellis-storefront', 'apollographql-client-version': '1.4.0' };

let repo: SchemaRepository | undefined;
let scratch: string;
const compose = () => repo!.compose();
const edit = (subgraph: string, from: string, to: string) => repo!.edit(subgraph, from, to);

/** A scratch repository holding the subgraph SDLs and their supergraph, committed once. */
function scratchCopy(): void {
  repo?.remove();
  repo = schemaRepository('trellis-usage-check-');
  scratch = repo.dir;
}

/** Review.createdAt: no storefront operation selects it. */
const removeReviewCreatedAt = () =>
  edit('reviews', '  product: Product!\n  createdAt: DateTime!\n', '  product: Product!\n');

describe('usage-aware schema:check', () => {
  let graph: TestGraph;
  let usageDb: TestDatabase;
  beforeAll(async () => {
    usageDb = await createTestDatabase(inject('databaseUrl'), 'trellis_usage');
    graph = await startGraph(inject('databaseUrl'), {
      gateway: { usage: { ...DEFAULT_USAGE, databaseUrl: usageDb.url, flushIntervalMs: 200 } },
    });
    const send = async (name: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...STOREFRONT, ...headers },
        body: JSON.stringify({ query: storefront(name), variables }),
      });
      const body = (await response.json()) as { errors?: unknown };
      expect(body.errors, name).toBeUndefined();
    };
    const token = await tokenFor(1);
    for (let i = 0; i < 3; i++) {
      await send('Catalogue', { first: 4 });
      await send('ProductPage', { id: String(i + 1) });
      await send('Me', {}, { authorization: `Bearer ${token}` });
    }
    // Let the gateway's own timer flush (every 200 ms here), as in production.
    for (let waited = 0; waited < 10_000; waited += 200) {
      const snapshot = await readUsageDatabase(usageDb.url, 30);
      if ((snapshot?.totalRequests ?? 0) >= 9) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  afterAll(async () => {
    await graph?.stop();
    await usageDb?.drop();
    repo?.remove();
  });

  it('fails removing a field the storefront uses, naming the client, version and operation', async () => {
    scratchCopy();
    edit('products', '  description: String!\n', '');
    const result = checkSchemas(scratch, 'HEAD', compose());
    const check = usageCheck(result, await loadUsage({ databaseUrl: usageDb.url }), result.acknowledged);
    const supergraph = check.breaking.find((c) => c.scope === 'supergraph');
    expect(supergraph).toMatchObject({ verdict: 'used', coordinates: ['Product.description'] });
    expect(supergraph?.operations.map((op) => op.name)).toEqual(['ProductPage']);
    expect(supergraph?.operations[0]?.clients).toEqual([
      expect.objectContaining({ name: 'trellis-storefront', version: '1.4.0', requests: 3, errors: 0 }),
    ]);
    expect(supergraph?.manifests).toEqual([
      expect.objectContaining({ client: 'storefront', operation: 'ProductPage' }),
    ]);
    expect(check.failed.length).toBeGreaterThan(0);
    const text = usageCheckText(check);
    expect(text).toContain('BREAKING (used)  supergraph: Product.description was removed.');
    expect(text).toContain('operation ProductPage — 3 requests');
    expect(text).toMatch(/trellis-storefront 1\.4\.0: 3 requests, 0 errors, last seen \d{4}-/);
    expect(text).toContain('client storefront: trusted document ProductPage');
  });

  it('passes removing a field nobody used, as safe with the evidence; from an exported file too', async () => {
    scratchCopy();
    removeReviewCreatedAt();
    const result = checkSchemas(scratch, 'HEAD', compose());
    expect(result.unacknowledged.length).toBeGreaterThan(0);
    const check = usageCheck(result, await loadUsage({ databaseUrl: usageDb.url }), result.acknowledged);
    expect(check.breaking.map((c) => [c.scope, c.verdict, c.coordinates])).toContainEqual([
      'supergraph',
      'safe',
      ['Review.createdAt'],
    ]);
    expect(check.failed).toEqual([]);
    expect(usageCheckText(check)).toMatch(
      /breaking \(unused: safe\) {2}supergraph: Review\.createdAt was removed\.[\s\S]*evidence: no operation used Review\.createdAt in the last 30 days \(9 requests of 3 operations/,
    );

    const file = join(scratch, 'usage.json');
    writeUsageFile(file, (await readUsageDatabase(usageDb.url, 30))!);
    const fromFile = usageCheck(result, await loadUsage({ file }), result.acknowledged);
    expect(fromFile.failed).toEqual([]);
    expect(fromFile.usage?.source).toBe(file);
  });

  it('without usage data says so and needs an acknowledgement, as before', async () => {
    scratchCopy();
    removeReviewCreatedAt();
    const result = checkSchemas(scratch, 'HEAD', compose());
    const empty = await createTestDatabase(inject('databaseUrl'), 'trellis_nousage');
    try {
      const loaded = await loadUsage({ databaseUrl: empty.url });
      expect(loaded.missing).toContain('no gateway_usage tables');
      const check = usageCheck(result, loaded, result.acknowledged);
      // Nothing passes as safe: every breaking change fails (a client's trusted documents may still name users).
      expect(check.failed).toEqual(check.breaking);
      expect(check.breaking.find((c) => c.scope === 'supergraph')).toMatchObject({
        verdict: 'unverified',
        coordinates: ['Review.createdAt'],
      });
      expect(usageCheckText(check)).toContain('usage: none — the database has no gateway_usage tables');
      // The acknowledgement file still lets a deliberate break through.
      writeFileSync(
        join(scratch, ACK_FILE),
        `${check.failed.map((c) => `${c.scope}: ${c.type} ${c.description}`).join('\n')}\n`,
      );
      const again = checkSchemas(scratch, 'HEAD', compose());
      expect(usageCheck(again, loaded, again.acknowledged).failed).toEqual([]);
    } finally {
      await empty.drop();
    }
  });
});
