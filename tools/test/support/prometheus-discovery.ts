// What Prometheus makes of the generated manifests: kubernetes_sd (pod role) discovery and
// the Prometheus Operator's PodMonitors over the generated pods, compose's static jobs,
// relabelling as Prometheus does it, and which services a PromQL selector's scrape-label
// matchers select in each environment.
import type { LabelMatcher, Selector } from '../../src/observability.ts';
import { type K8sObject, type Labels, type Pod, selects } from './kubernetes.ts';

export interface RelabelConfig {
  source_labels?: string[];
  sourceLabels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  targetLabel?: string;
  replacement?: string;
  action?: string;
}

function expand(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(?:\{(\w+)\}|(\d+))/g, (_all, braced: string | undefined, digits: string | undefined) => {
    const key = braced ?? digits!;
    return (/^\d+$/.test(key) ? match[Number(key)] : match.groups?.[key]) ?? '';
  });
}

/** Prometheus' relabelling: the labels after `configs`, or undefined when the target is dropped. */
export function relabel(labels: Labels, configs: RelabelConfig[]): Labels | undefined {
  const current = { ...labels };
  for (const config of configs) {
    const action = (config.action ?? 'replace').toLowerCase();
    const sources = config.source_labels ?? config.sourceLabels ?? [];
    const value = sources.map((label) => current[label] ?? '').join(config.separator ?? ';');
    const regex = new RegExp(`^(?:${config.regex ?? '(.*)'})$`);
    const target = config.target_label ?? config.targetLabel;
    const replacement = config.replacement ?? '$1';
    switch (action) {
      case 'keep':
        if (!regex.test(value)) return undefined;
        break;
      case 'drop':
        if (regex.test(value)) return undefined;
        break;
      case 'replace': {
        const match = regex.exec(value);
        if (!match || !target) break;
        const name = expand(target, match);
        const result = expand(replacement, match);
        if (result === '') delete current[name];
        else current[name] = result;
        break;
      }
      case 'labelmap':
        for (const [name, labelValue] of Object.entries(current)) {
          const match = regex.exec(name);
          if (match) current[expand(replacement, match)] = labelValue;
        }
        break;
      case 'labeldrop':
        for (const name of Object.keys(current)) if (regex.test(name)) delete current[name];
        break;
      case 'labelkeep':
        for (const name of Object.keys(current)) if (!regex.test(name)) delete current[name];
        break;
      default:
        throw new Error(`relabel action ${action} is not simulated`);
    }
  }
  return current;
}

/** A target's final labels: `instance` defaults to the address, `__*` labels are dropped. */
function finalLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const [name, value] of Object.entries(labels)) if (!name.startsWith('__')) out[name] = value;
  out.instance ??= labels.__address__ ?? '';
  return out;
}

const metaLabel = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** kubernetes_sd_configs role `pod`: one candidate target per container port, with its meta labels. */
export function podDiscovery(pod: Pod): Labels[] {
  return pod.containers.flatMap((container) =>
    container.ports.map((port) => {
      const labels: Labels = {
        __address__: `${pod.ip}:${port.containerPort}`,
        __meta_kubernetes_namespace: pod.namespace,
        __meta_kubernetes_pod_name: pod.name,
        __meta_kubernetes_pod_ip: pod.ip,
        __meta_kubernetes_pod_ready: 'true',
        __meta_kubernetes_pod_phase: 'Running',
        __meta_kubernetes_pod_container_name: container.name,
        __meta_kubernetes_pod_container_init: 'false',
        __meta_kubernetes_pod_container_port_name: port.name ?? '',
        __meta_kubernetes_pod_container_port_number: String(port.containerPort),
        __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
      };
      for (const [name, value] of Object.entries(pod.labels)) {
        labels[`__meta_kubernetes_pod_label_${metaLabel(name)}`] = value;
        labels[`__meta_kubernetes_pod_labelpresent_${metaLabel(name)}`] = 'true';
      }
      return labels;
    }),
  );
}

export interface Target {
  /** The Deployment (service) the target belongs to. */
  service: string;
  labels: Labels;
}

/** A plain Prometheus' scrape_configs with kubernetes_sd_configs (pod role) over `pods`. */
export function plainPrometheusTargets(scrapeConfigs: any[], pods: Pod[]): Target[] {
  const targets: Target[] = [];
  for (const job of scrapeConfigs) {
    for (const sd of job.kubernetes_sd_configs ?? []) {
      if (sd.role !== 'pod') throw new Error(`kubernetes_sd role ${sd.role} is not simulated`);
      const namespaces: string[] | undefined = sd.namespaces?.names;
      for (const pod of pods.filter((p) => !namespaces || namespaces.includes(p.namespace))) {
        for (const meta of podDiscovery(pod)) {
          const labels = relabel(
            { ...meta, job: job.job_name, __metrics_path__: job.metrics_path ?? '/metrics', __scheme__: 'http' },
            job.relabel_configs ?? [],
          );
          if (labels)
            targets.push({ service: pod.labels['app.kubernetes.io/name'] ?? pod.name, labels: finalLabels(labels) });
        }
      }
    }
  }
  return targets;
}

/**
 * What the Prometheus Operator makes of PodMonitors: pods in the monitor's namespace whose
 * labels match its selector, the container port named by each endpoint, the operator's own
 * labels (namespace, pod, container, endpoint; job = `<namespace>/<podmonitor>` unless
 * `jobLabel` names a pod label), then the endpoint's relabelings.
 */
export function podMonitorTargets(monitors: K8sObject[], pods: Pod[], namespace: string): Target[] {
  const targets: Target[] = [];
  for (const monitor of monitors.filter((m) => m.kind === 'PodMonitor')) {
    const monitorNamespace = monitor.metadata.namespace ?? namespace;
    for (const pod of pods.filter(
      (p) => p.namespace === monitorNamespace && selects(monitor.spec.selector, p.labels),
    )) {
      for (const endpoint of monitor.spec.podMetricsEndpoints) {
        for (const meta of podDiscovery(pod)) {
          if (meta.__meta_kubernetes_pod_container_port_name !== endpoint.port) continue;
          const jobLabel: string | undefined = monitor.spec.jobLabel;
          const operator: Labels = {
            ...meta,
            namespace: pod.namespace,
            pod: pod.name,
            container: meta.__meta_kubernetes_pod_container_name!,
            endpoint: endpoint.port,
            job: jobLabel ? (pod.labels[jobLabel] ?? '') : `${monitorNamespace}/${monitor.metadata.name}`,
          };
          const labels = relabel(operator, endpoint.relabelings ?? []);
          if (labels)
            targets.push({ service: pod.labels['app.kubernetes.io/name'] ?? pod.name, labels: finalLabels(labels) });
        }
      }
    }
  }
  return targets;
}

/** A compose Prometheus' static_configs: job and instance per target. */
export function staticTargets(scrapeConfigs: any[], serviceOf: (address: string) => string): Target[] {
  return scrapeConfigs.flatMap((job) =>
    (job.static_configs ?? []).flatMap((group: { targets: string[]; labels?: Labels }) =>
      group.targets.flatMap((address) => {
        const labels = relabel({ ...group.labels, job: job.job_name, __address__: address }, job.relabel_configs ?? []);
        return labels ? [{ service: serviceOf(address), labels: finalLabels(labels) }] : [];
      }),
    ),
  );
}

function matches(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

export interface UsedSelector extends Selector {
  /** Where it is used: rule or dashboard panel. */
  where: string;
}

/**
 * Which services' targets each selector can select in each environment, and what is wrong:
 * a selector that selects a service in one environment but not in another (naming the
 * service and the job it has there), or no service at all. Only matchers on labels the
 * scrape attaches (job, instance, namespace, …) are judged; metric labels come from the
 * services themselves. Dashboard variables are expanded with `variables`.
 */
export function selectorProblems(
  selectors: UsedSelector[],
  environments: Record<string, Target[]>,
  variables: Record<string, string[]>,
): string[] {
  const targetLabels = new Set(
    Object.values(environments).flatMap((targets) => targets.flatMap((t) => Object.keys(t.labels))),
  );
  const problems: string[] = [];
  for (const selector of selectors) {
    const judged = selector.matchers.filter((m) => targetLabels.has(m.label));
    if (!judged.length) continue;
    for (const matchers of expandVariables(judged, variables, (problem) =>
      problems.push(`${selector.where}: ${problem}`),
    )) {
      const text = `${selector.metric}{${matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(',')}}`;
      const selected = Object.fromEntries(
        Object.entries(environments).map(([env, targets]) => [
          env,
          new Set(
            targets.filter((t) => matchers.every((m) => matches(m, t.labels[m.label] ?? ''))).map((t) => t.service),
          ),
        ]),
      );
      const all = new Set(Object.values(selected).flatMap((set) => [...set]));
      if (!all.size) problems.push(`${selector.where}: ${text} selects no service in any environment`);
      for (const service of all) {
        for (const [env, set] of Object.entries(selected)) {
          if (set.has(service)) continue;
          const jobs = [...new Set(environments[env]!.filter((t) => t.service === service).map((t) => t.labels.job))];
          problems.push(
            `${selector.where}: ${text} selects ${service} elsewhere but not in ${env} (there its job is ${jobs.length ? jobs.map((j) => `"${j}"`).join(', ') : 'missing: not scraped'})`,
          );
        }
      }
    }
  }
  return problems;
}

function expandVariables(
  matchers: LabelMatcher[],
  variables: Record<string, string[]>,
  report: (problem: string) => void,
): LabelMatcher[][] {
  let sets: LabelMatcher[][] = [[]];
  for (const matcher of matchers) {
    const used = /\$\{?([a-zA-Z_]\w*)\}?/.exec(matcher.value);
    if (!used) {
      sets = sets.map((set) => [...set, matcher]);
      continue;
    }
    const values = variables[used[1]!];
    if (!values) {
      report(`no values known for dashboard variable $${used[1]}`);
      return [];
    }
    sets = sets.flatMap((set) =>
      values.map((value) => [...set, { ...matcher, value: matcher.value.replace(used[0], value) }]),
    );
  }
  return sets;
}

/** The services a selector's scrape-label matchers select in a set of targets. */
export function servicesSelected(matchers: LabelMatcher[], targets: Target[]): Set<string> {
  return new Set(
    targets.filter((t) => matchers.every((m) => matches(m, t.labels[m.label] ?? ''))).map((t) => t.service),
  );
}
