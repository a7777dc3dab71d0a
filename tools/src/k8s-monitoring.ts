// Monitoring of the Kubernetes deployment, generated from the workspace (`pnpm k8s`), so that
// the SLO rules, alerts and dashboards — written against `job="<service>"`, the compose job
// names — select the same series in a cluster:
// - ops/k8s/components/monitoring: a kustomize component for clusters with the Prometheus
//   Operator — a PodMonitor per deployable scraping its `admin` port, relabelled so `job` is
//   the service's name (the operator's default would be `<namespace>/<podmonitor>`), one
//   PrometheusRule holding ops/prometheus/rules/*.yml, and the Grafana dashboards as
//   ConfigMaps labelled for the Grafana sidecar (`grafana_dashboard: "1"`).
// - ops/k8s/prometheus/scrape-configs.yml: the same scrape for a plain Prometheus
//   (kubernetes_sd_configs, pod role), to include with `scrape_config_files`.
// tools/test/k8s-monitoring.test.ts simulates both relabellings and checks every selector.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { HEADER, K8S_ROOT, labelsOf, NAME_LABEL, NAMESPACE, selectorOf, yamlDocs } from './k8s-objects.ts';
import { DASHBOARDS_DIR, listFiles, RULES_DIR, type RuleGroup } from './observability.ts';
import { SERVICE_RULES, serviceRules } from './ops.ts';
import { listServices, type SubgraphInfo } from './workspace.ts';

export const MONITORING_COMPONENT = `${K8S_ROOT}/components/monitoring`;
export const PLAIN_SCRAPE_CONFIG = `${K8S_ROOT}/prometheus/scrape-configs.yml`;
/** Prometheus' form of a pod label in service discovery. */
export const podMeta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;

/** Every rule group Prometheus loads: the hand-written files and the generated services.yml. */
export function ruleGroups(subgraphs: SubgraphInfo[]): { file: string; groups: RuleGroup[] }[] {
  const files = listFiles(RULES_DIR, '.yml')
    .filter((path) => basename(path) !== basename(SERVICE_RULES))
    .map((path) => ({ file: basename(path), text: readFileSync(path, 'utf8') }));
  files.push({ file: basename(SERVICE_RULES), text: serviceRules(subgraphs) });
  return files
    .sort((a, b) => a.file.localeCompare(b.file))
    .map(({ file, text }) => ({ file, groups: (parse(text) as { groups: RuleGroup[] }).groups }));
}

function podMonitors(subgraphs: SubgraphInfo[]): Record<string, unknown>[] {
  return listServices(subgraphs).map((service) => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: service.name, labels: labelsOf(service) },
    spec: {
      selector: { matchLabels: selectorOf(service) },
      podMetricsEndpoints: [
        {
          port: 'admin',
          path: '/metrics',
          interval: '15s',
          // The rules and dashboards select job="<service>", as in compose.
          relabelings: [{ sourceLabels: [podMeta(NAME_LABEL)], targetLabel: 'job', action: 'replace' }],
        },
      ],
    },
  }));
}

function prometheusRule(subgraphs: SubgraphInfo[]): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'trellis', labels: { 'app.kubernetes.io/part-of': 'trellis' } },
    spec: { groups: ruleGroups(subgraphs).flatMap((file) => file.groups) },
  };
}

/** Plain Prometheus: one job over every Trellis pod's admin port, `job` relabelled to the service. */
export function plainScrapeConfigs(namespace = NAMESPACE): Record<string, unknown>[] {
  return [
    {
      job_name: 'trellis',
      metrics_path: '/metrics',
      kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
      relabel_configs: [
        { source_labels: [podMeta('app.kubernetes.io/part-of')], regex: 'trellis', action: 'keep' },
        { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'admin', action: 'keep' },
        { source_labels: [podMeta(NAME_LABEL)], target_label: 'job', action: 'replace' },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace', action: 'replace' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod', action: 'replace' },
      ],
    },
  ];
}

/** Repository-relative path → content of the monitoring files. */
export function renderMonitoring(subgraphs: SubgraphInfo[]): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`${MONITORING_COMPONENT}/pod-monitors.yaml`, yamlDocs(podMonitors(subgraphs)));
  files.set(`${MONITORING_COMPONENT}/prometheus-rules.yaml`, yamlDocs([prometheusRule(subgraphs)]));
  const dashboards = listFiles(DASHBOARDS_DIR, '.json').map((path) => basename(path));
  for (const file of dashboards)
    files.set(`${MONITORING_COMPONENT}/dashboards/${file}`, readFileSync(join(DASHBOARDS_DIR, file), 'utf8'));
  files.set(
    `${MONITORING_COMPONENT}/kustomization.yaml`,
    HEADER +
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1alpha1',
        kind: 'Component',
        resources: ['pod-monitors.yaml', 'prometheus-rules.yaml'],
        // The Grafana sidecar (kube-prometheus-stack, grafana chart) loads ConfigMaps with this label.
        configMapGenerator: dashboards.map((file) => ({
          name: `trellis-dashboard-${file.replace(/\.json$/, '')}`,
          files: [`dashboards/${file}`],
          options: { labels: { grafana_dashboard: '1' }, disableNameSuffixHash: true },
        })),
      }),
  );
  files.set(
    PLAIN_SCRAPE_CONFIG,
    `${HEADER}# For a Prometheus without the Operator: \`scrape_config_files: [scrape-configs.yml]\` in its\n# prometheus.yml (Prometheus 2.43+; or copy the job into its scrape_configs), and the rules of\n# ops/prometheus/rules loaded with \`rule_files\`. Pods of namespace trellis: change it with the overlay's.\n${stringify(
      { scrape_configs: plainScrapeConfigs() },
      { lineWidth: 0 },
    )}`,
  );
  return files;
}
