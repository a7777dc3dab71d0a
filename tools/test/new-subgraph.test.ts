// The pure parts of `pnpm new:subgraph`: names, their checks, template rendering and the
// docker-compose.yml edit (the whole command runs in new-subgraph.e2e.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addComposeService,
  checkNameInWorkspace,
  checkNameShape,
  deriveNames,
  NameError,
  nextPort,
  plural,
  render,
  renderSubgraph,
  singular,
} from '../src/new-subgraph.ts';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

describe('new:subgraph names', () => {
  it('derives the entity and its list from the subgraph name', () => {
    expect(deriveNames('shipments', 4006)).toEqual({
      name: 'shipments',
      Pascal: 'Shipment',
      PascalPlural: 'Shipments',
      camel: 'shipment',
      camelPlural: 'shipments',
      table: 'shipments',
      NAME: 'SHIPMENTS',
      port: '4006',
    });
    const pairs = [
      ['shipping', 'shipping', 'shippings'],
      ['categories', 'category', 'categories'],
      ['addresses', 'address', 'addresses'],
      ['status', 'status', 'statuses'],
      ['boxes', 'box', 'boxes'],
      ['payments', 'payment', 'payments'],
    ];
    for (const [name, one, many] of pairs) expect([singular(name!), plural(singular(name!))]).toEqual([one, many]);
  });

  it('refuses malformed and reserved names, each with one line', () => {
    for (const name of [
      'Bad-Name',
      '1abc',
      '',
      'a_b',
      'x'.repeat(31),
      'gateway',
      'pg_stats',
      'select',
      'query',
      'kit',
    ]) {
      expect(() => checkNameShape(name), name).toThrow(NameError);
      try {
        checkNameShape(name);
      } catch (error) {
        expect((error as Error).message, name).not.toContain('\n');
      }
    }
    expect(() => checkNameShape('shipping')).not.toThrow();
  });

  it('refuses names that exist or whose types and fields another subgraph defines', () => {
    const port = nextPort();
    expect(port).toBe(Math.max(...listSubgraphs().map((s) => s.port)) + 1);
    expect(() => checkNameInWorkspace(deriveNames('products', port))).toThrow(/already exists/);
    expect(() => checkNameInWorkspace(deriveNames('redis', port))).toThrow(/docker-compose.yml already has/);
    expect(() => checkNameInWorkspace(deriveNames('users', port))).toThrow(/type User.*accounts/);
    expect(() => checkNameInWorkspace(deriveNames('product', port))).toThrow(/type Product.*products/);
    expect(() => checkNameInWorkspace(deriveNames('me', port))).toThrow(/Query\.me.*accounts/);
    expect(() => checkNameInWorkspace(deriveNames('shipping', port))).not.toThrow();
  });
});

describe('new:subgraph files', () => {
  it('renders every template with the names, sharing the other subgraphs’ scripts and dependencies', () => {
    const files = renderSubgraph(deriveNames('parcels', 4010));
    for (const [path, text] of files) expect(text, path).not.toMatch(/\{\{|\}\}/);
    expect([...files.keys()]).toContain('src/resolvers/parcel.ts');
    expect([...files.keys()]).toContain('test/parcels.int.test.ts');
    const manifest = JSON.parse(files.get('package.json')!);
    const accounts = JSON.parse(readFileSync(join(ROOT, 'subgraphs', 'accounts', 'package.json'), 'utf8'));
    expect(manifest.trellis).toEqual({
      subgraph: 'parcels',
      port: 4010,
      mappers: { Parcel: '../db/schema.ts#ParcelRow' },
    });
    for (const field of ['exports', 'scripts', 'devDependencies']) {
      expect(manifest[field], field).toEqual(accounts[field]);
    }
    // Accounts declares only what every subgraph shares; the templates' lists and resolvers
    // also import errors and relay, added at the version the other subgraphs use.
    expect(manifest.dependencies).toEqual({
      ...accounts.dependencies,
      '@trellis/errors': 'workspace:*',
      '@trellis/relay': 'workspace:*',
    });
    expect(() => render('{{nope}}', deriveNames('parcels', 4010))).toThrow(/unknown/);
  });

  it('adds a service to docker-compose.yml and routes the gateway to it', () => {
    const before = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const after = addComposeService(before, deriveNames('parcels', 4010));
    const added = after.split('\n').filter((line) => !before.split('\n').includes(line));
    expect(added).toContain('  parcels:');
    expect(added).toContain('      PORT: "4010"');
    expect(added).toContain('      SUBGRAPH_URL_PARCELS: http://parcels:4010/graphql');
    expect(added).toContain('      parcels: { condition: service_healthy }');
    // The service comes before the gateway; the gateway's own lines stay in its block.
    const gateway = after.indexOf('\n  gateway:\n');
    expect(after.indexOf('\n  parcels:\n')).toBeLessThan(gateway);
    expect(after.indexOf('SUBGRAPH_URL_PARCELS')).toBeGreaterThan(gateway);
    expect(after.lastIndexOf('      parcels: { condition')).toBeGreaterThan(after.indexOf('SUBGRAPH_URL_PARCELS'));
    expect(after.lastIndexOf('      parcels: { condition')).toBeLessThan(after.indexOf('\nvolumes:'));
    // The seed waits for it too (it seeds after the subgraph migrated as its own role).
    const seed = after.slice(after.indexOf('\n  seed:\n'), after.indexOf('\n  parcels:\n'));
    expect(seed).toContain('      parcels: { condition: service_healthy }');
    expect(added).toContain('      DATABASE_URL: postgres://parcels:parcels@postgres:5432/trellis');
    expect(added).toContain('      OTEL_SERVICE_NAME: parcels');
  });
});
