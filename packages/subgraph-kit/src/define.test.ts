// defineSubgraph derives what every subgraph used to repeat from the subgraph's layout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { integer, pgTable } from 'drizzle-orm/pg-core';
import { Kind } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSubgraph } from './define.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function layout(trellis: Record<string, unknown>): string {
  dir = mkdtempSync(join(tmpdir(), 'trellis-kit-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@trellis/subgraph-x', trellis }));
  writeFileSync(join(dir, 'src', 'schema.graphql'), 'type Query { at: DateTime @cacheControl(maxAge: 1) }\n');
  return pathToFileURL(join(dir, 'src', 'service.ts')).href;
}

const rest = {
  resolvers: {},
  schema: {},
  createLoaders: () => ({}),
  seed: async () => {},
  seededTable: pgTable('things', { id: integer('id') }),
};

describe('defineSubgraph', () => {
  it('reads name and port from package.json, the completed SDL and the migrations folder by layout', () => {
    const definition = defineSubgraph({ module: layout({ subgraph: 'shipping', port: 4006 }), ...rest });
    expect(definition.name).toBe('shipping');
    expect(definition.defaultPort).toBe(4006);
    expect(definition.defaultWorkerPort).toBeUndefined();
    expect(definition.migrationsFolder).toBe(join(dir, 'migrations'));
    const names = definition.typeDefs.definitions.map((d) =>
      d.kind === Kind.DIRECTIVE_DEFINITION ? `@${d.name.value}` : 'name' in d ? d.name?.value : d.kind,
    );
    expect(names).toEqual(['Query', 'DateTime', '@cacheControl', 'CacheControlScope']);
  });

  it("reads its worker's port from trellis.worker.port (the one place it is written)", () => {
    const definition = defineSubgraph({
      module: layout({ subgraph: 'shipping', port: 4006, worker: { port: 4106 } }),
      ...rest,
    });
    expect(definition.defaultWorkerPort).toBe(4106);
    expect(() =>
      defineSubgraph({ module: layout({ subgraph: 'x', port: 4006, worker: { port: 0 } }), ...rest }),
    ).toThrow(/"trellis\.worker\.port" must be a port number/);
  });

  it('refuses a package.json without a valid trellis.subgraph or trellis.port, naming the field', () => {
    expect(() => defineSubgraph({ module: layout({ port: 4006 }), ...rest })).toThrow(/"trellis\.subgraph"/);
    expect(() => defineSubgraph({ module: layout({ subgraph: 'x', port: '4006' }), ...rest })).toThrow(
      /"trellis\.port" must be a port number/,
    );
  });
});
