// The SLO rules, alerts and dashboards select the same services in Kubernetes as in compose:
// every series selector (rules and dashboards, parsed with Prometheus' grammar) is matched
// against the scrape targets each environment produces — compose's static jobs, the
// Prometheus Operator's PodMonitors and a plain Prometheus' kubernetes_sd scrape, relabelled
// as they would be over the generated pods — for every service, a freshly scaffolded one
// included; TrellisServiceDown covers every service. A manifest change that breaks a
// selector fails naming the service. The generated monitoring objects are valid
// Prometheus Operator resources and the plain scrape configuration passes promtool.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderK8s } from '../src/k8s.ts';
import { MONITORING_COMPONENT, PLAIN_SCRAPE_CONFIG, ruleGroups } from '../src/k8s-monitoring.ts';
import { K8S_BASE, NAMESPACE } from '../src/k8s-objects.ts';
import { dashboardQueries, loadDashboards, selectors } from '../src/observability.ts';
import { prometheusConfig } from '../src/ops.ts';
import { listServices, listSubgraphs, ROOT, type SubgraphInfo } from '../src/workspace.ts';
import { type K8sObject, objectsOf, podsOf } from './support/kubernetes.ts';
import {
  plainPrometheusTargets,
  podMonitorTargets,
  selectorProblems,
  servicesSelected,
  staticTargets,
  type Target,
  type UsedSelector,
} from './support/prometheus-discovery.ts';

/** A subgraph as `pnpm new:subgraph` would add it, with a worker, fed to the generators in memory. */
const scaffolded: SubgraphInfo = {
  name: 'shipments',
  port: 4006,
  dir: join(ROOT, 'subgraphs', 'shipments'),
  schemaPath: join(ROOT, 'subgraphs', 'shipments', 'src', 'schema.graphql'),
  servicePath: join(ROOT, 'subgraphs', 'shipments', 'src', 'service.ts'),
  mainPath: join(ROOT, 'subgraphs', 'shipments', 'src', 'main.ts'),
  env: {},
  publicPaths: [],
  secrets: {},
  mappers: {},
  worker: { port: 4106, mainPath: '', secrets: {}, env: {} },
};

interface World {
  subgraphs: SubgraphInfo[];
  files: Map<string, string>;
  compose: any;
}
function world(subgraphs: SubgraphInfo[]): World {
  return { subgraphs, files: renderK8s(subgraphs), compose: parse(prometheusConfig(subgraphs)) };
}
/** The repository as committed. */
function committed(): World {
  const subgraphs = listSubgraphs();
  const files = new Map([...renderK8s(subgraphs).keys()].map((path) => [path, readFileSync(join(ROOT, path), 'utf8')]));
  return { subgraphs, files, compose: parse(readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8')) };
}

function environments(w: World, edit: (objects: K8sObject[]) => void = () => {}): Record<string, Target[]> {
  const base = objectsOf(w.files, (p) => p.startsWith(`${K8S_BASE}/`));
  const monitoring = objectsOf(w.files, (p) => p.startsWith(`${MONITORING_COMPONENT}/`));
  edit([...base, ...monitoring]);
  const pods = podsOf(base, NAMESPACE);
  const plain = parse(w.files.get(PLAIN_SCRAPE_CONFIG)!).scrape_configs;
  return {
    compose: staticTargets(w.compose.scrape_configs, (address) => address.split(':')[0]!),
    'Kubernetes (Prometheus Operator)': podMonitorTargets(monitoring, pods, NAMESPACE),
    'Kubernetes (plain Prometheus)': plainPrometheusTargets(plain, pods),
  };
}

function usedSelectors(subgraphs: SubgraphInfo[]): UsedSelector[] {
  const fromRules = ruleGroups(subgraphs).flatMap(({ file, groups }) =>
    groups.flatMap((group) =>
      group.rules.flatMap((rule) =>
        selectors(rule.expr).map((s) => ({ ...s, where: `${file} ${rule.record ?? rule.alert}` })),
      ),
    ),
  );
  const fromDashboards = loadDashboards().flatMap(({ dashboard }) =>
    dashboardQueries(dashboard).flatMap(({ where, expr }) => selectors(expr).map((s) => ({ ...s, where }))),
  );
  return [...fromRules, ...fromDashboards];
}

/** Values of the dashboards' variables: `$subgraph` is label_values(…fetches_total, subgraph), the subgraph names. */
const variablesOf = (subgraphs: SubgraphInfo[]) => ({ subgraph: subgraphs.map((s) => s.name) });

function serviceDownSelector(subgraphs: SubgraphInfo[]) {
  const rule = ruleGroups(subgraphs)
    .flatMap((f) => f.groups.flatMap((g) => g.rules))
    .find((r) => r.alert === 'TrellisServiceDown')!;
  return selectors(rule.expr).find((s) => s.metric === 'up')!;
}

function expectAllSelectorsMatch(w: World): void {
  expect(selectorProblems(usedSelectors(w.subgraphs), environments(w), variablesOf(w.subgraphs))).toEqual([]);
  // TrellisServiceDown watches every service, in every environment.
  const down = serviceDownSelector(w.subgraphs);
  for (const [env, targets] of Object.entries(environments(w))) {
    const covered = servicesSelected(down.matchers, targets);
    for (const service of listServices(w.subgraphs))
      expect(covered.has(service.name), `TrellisServiceDown does not cover ${service.name} in ${env}`).toBe(true);
  }
}

describe('Kubernetes monitoring', () => {
  it('scrapes every service once per pod in every environment, with job = the service name', () => {
    const w = committed();
    for (const [env, targets] of Object.entries(environments(w))) {
      for (const service of listServices(w.subgraphs)) {
        const own = targets.filter((t) => t.service === service.name);
        expect(own.length, `${service.name} in ${env}`).toBe(1);
        expect(own[0]!.labels.job, `${service.name} in ${env}`).toBe(service.name);
      }
    }
  });

  it('every selector of the rules and dashboards selects the same services in compose and Kubernetes', () => {
    expectAllSelectorsMatch(committed());
  });

  it('a freshly scaffolded subgraph and its worker are scraped, selected and covered by TrellisServiceDown', () => {
    const w = world([...listSubgraphs(), scaffolded]);
    expectAllSelectorsMatch(w);
    const down = serviceDownSelector(w.subgraphs);
    for (const targets of Object.values(environments(w))) {
      expect(servicesSelected(down.matchers, targets)).toContain('shipments');
      expect(servicesSelected(down.matchers, targets)).toContain('shipments-worker');
    }
  });

  it('a manifest change that breaks the job relabelling fails, naming the service', () => {
    const w = committed();
    // The operator's default job is "<namespace>/<podmonitor>": without the relabelling…
    const broken = environments(w, (objects) => {
      for (const monitor of objects.filter((o) => o.kind === 'PodMonitor'))
        for (const endpoint of monitor.spec.podMetricsEndpoints) delete endpoint.relabelings;
    });
    const problems = selectorProblems(usedSelectors(w.subgraphs), broken, variablesOf(w.subgraphs));
    expect(problems.join('\n')).toContain(
      'selects gateway elsewhere but not in Kubernetes (Prometheus Operator) (there its job is "trellis/gateway")',
    );
    expect(problems.join('\n')).toContain(
      'selects orders-worker elsewhere but not in Kubernetes (Prometheus Operator)',
    );
    // …and a Deployment that loses the name label is not scraped by the plain configuration.
    const unlabelled = environments(w, (objects) => {
      const orders = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!;
      delete orders.spec.template.metadata.labels['app.kubernetes.io/part-of'];
    });
    expect(selectorProblems(usedSelectors(w.subgraphs), unlabelled, variablesOf(w.subgraphs)).join('\n')).toContain(
      'selects orders elsewhere but not in Kubernetes (plain Prometheus) (there its job is missing: not scraped)',
    );
  });

  it('holds every rule file in one PrometheusRule and every dashboard in a ConfigMap for the Grafana sidecar', () => {
    const w = committed();
    const objects = objectsOf(w.files, (p) => p.startsWith(`${MONITORING_COMPONENT}/`));
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule.spec.groups).toEqual(ruleGroups(w.subgraphs).flatMap((f) => f.groups));
    for (const monitor of objects.filter((o) => o.kind === 'PodMonitor'))
      expect(() => new PodMonitor(monitor as never).validate(), monitor.metadata.name).not.toThrow();
    expect(() => new PrometheusRule(rule as never).validate()).not.toThrow();
    const component = parse(w.files.get(`${MONITORING_COMPONENT}/kustomization.yaml`)!);
    expect(component.kind).toBe('Component');
    const dashboards = loadDashboards().map(({ path }) => path.split('/').at(-1));
    expect(component.configMapGenerator.map((g: { files: string[] }) => g.files[0])).toEqual(
      dashboards.map((file) => `dashboards/${file}`),
    );
    for (const generator of component.configMapGenerator) {
      expect(generator.options.labels).toEqual({ grafana_dashboard: '1' });
      const file = generator.files[0] as string;
      expect(w.files.get(`${MONITORING_COMPONENT}/${file}`)).toBe(
        readFileSync(join(ROOT, 'ops', 'grafana', file), 'utf8'),
      );
    }
  });

  it.skipIf(spawnSync('promtool', ['--version']).status !== 0)(
    'the plain scrape configuration and the compose prometheus.yml pass `promtool check config`',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'trellis-promtool-'));
      try {
        const w = committed();
        // A file with only scrape_configs is a complete configuration (promtool here predates
        // scrape_config_files). Debian's build has no Kubernetes discovery (simulated above):
        // promtool checks the rest of each job — relabel_configs included — on a static target.
        const plain = parse(w.files.get(PLAIN_SCRAPE_CONFIG)!);
        for (const job of plain.scrape_configs) {
          delete job.kubernetes_sd_configs;
          job.static_configs = [{ targets: ['pod:9464'] }];
        }
        writeFileSync(join(dir, 'scrape-configs.yml'), stringify(plain));
        const checkedPlain = spawnSync('promtool', ['check', 'config', join(dir, 'scrape-configs.yml')], {
          encoding: 'utf8',
        });
        expect(checkedPlain.status, checkedPlain.stdout + checkedPlain.stderr).toBe(0);
        const compose = readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8').replace(
          '/etc/prometheus/rules/*.yml',
          join(ROOT, 'ops/prometheus/rules/*.yml'),
        );
        writeFileSync(join(dir, 'compose.yml'), compose);
        const checked = spawnSync('promtool', ['check', 'config', join(dir, 'compose.yml')], { encoding: 'utf8' });
        expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
