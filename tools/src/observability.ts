// Reads the observability configuration (Prometheus rules in ops/prometheus/rules, Grafana
// dashboards in ops/grafana/dashboards, runbooks in docs/runbooks.md) and takes PromQL
// apart with Prometheus's own Lezer grammar, for the checks that keep them true: every
// expression parses, every metric they use is emitted, every alert has its runbook.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './workspace.ts';

export const RULES_DIR = join(ROOT, 'ops', 'prometheus', 'rules');
export const RULE_TESTS_DIR = join(ROOT, 'ops', 'prometheus', 'tests');
export const DASHBOARDS_DIR = join(ROOT, 'ops', 'grafana', 'dashboards');
export const GRAFANA_PROVISIONING_DIR = join(ROOT, 'ops', 'grafana', 'provisioning');
export const RUNBOOKS_PATH = join(ROOT, 'docs', 'runbooks.md');

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
export interface RuleFile {
  path: string;
  groups: RuleGroup[];
}

export function listFiles(dir: string, extension: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(extension))
    .sort()
    .map((name) => join(dir, name));
}

export function loadRuleFiles(dir = RULES_DIR): RuleFile[] {
  return listFiles(dir, '.yml').map((path) => ({
    path,
    ...(parseYaml(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }),
  }));
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating?: { list: { name: string; type: string; datasource?: { uid?: string }; query?: unknown }[] };
  panels: Panel[];
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr: string; datasource?: { type?: string; uid?: string } }[];
  panels?: Panel[];
}

export function loadDashboards(dir = DASHBOARDS_DIR): { path: string; dashboard: Dashboard }[] {
  return listFiles(dir, '.json').map((path) => ({
    path,
    dashboard: JSON.parse(readFileSync(path, 'utf8')) as Dashboard,
  }));
}

/** Every panel of a dashboard, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Grafana's interval variables, which stand where PromQL expects a duration. */
const GRAFANA_INTERVALS = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

/**
 * The PromQL of every query in a dashboard: panel targets and the selector inside each
 * `label_values(selector, label)` template variable. Grafana's interval variables become
 * `5m`; the dashboard's own variables are left as they are (they only appear in label values).
 */
export function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      queries.push({
        where: `${dashboard.uid} / ${panel.title} / ${target.refId}`,
        expr: target.expr.replace(GRAFANA_INTERVALS, '5m'),
      });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    const labelValues = /^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(query.trim());
    queries.push({
      where: `${dashboard.uid} / variable ${variable.name}`,
      expr: labelValues ? labelValues[1]! : query,
    });
  }
  return queries;
}

/** Dashboard variables (`$name`, `${name}`) a string refers to, Grafana's built-ins excluded. */
export function variablesUsed(text: string): string[] {
  return [...text.matchAll(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)/g)]
    .map((m) => m[1]!)
    .filter((name) => !name.startsWith('__'));
}

/** Syntax errors of a PromQL expression, as `offset: text` (empty when it parses). */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
    },
  });
  return errors;
}

export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
export interface Selector {
  metric: string;
  matchers: LabelMatcher[];
}

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) children.push(child);
  return children;
}

/** The vector selectors of a PromQL expression: metric name and label matchers. */
export function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  parser.parse(expr).iterate({
    enter(ref) {
      if (ref.name !== 'VectorSelector') return;
      const children = childrenOf(ref.node);
      const identifier = children.find((child) => child.name === 'Identifier');
      const matchers: LabelMatcher[] = [];
      for (const list of children.filter((child) => child.name === 'LabelMatchers')) {
        for (const matcher of childrenOf(list)) {
          const parts = childrenOf(matcher);
          const label = parts.find((part) => part.name === 'LabelName');
          const op = parts.find((part) => part.name === 'MatchOp');
          const value = parts.find((part) => part.name === 'StringLiteral');
          if (!label || !op || !value) continue;
          matchers.push({
            label: text(label),
            op: text(op) as LabelMatcher['op'],
            value: JSON.parse(text(value).replace(/^'|'$/g, '"')) as string,
          });
        }
      }
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
      const metric = identifier ? text(identifier) : name;
      if (metric) found.push({ metric, matchers: matchers.filter((m) => m.label !== '__name__') });
      return false;
    },
  });
  return found;
}

/** A recording rule's output name (`level:metric:operations`) rather than an emitted metric. */
export function isRecorded(metric: string): boolean {
  return metric.includes(':');
}

/** The metric family a series name belongs to: histogram series lose their suffix. */
export function metricFamily(metric: string): string {
  return metric.replace(/_(bucket|sum|count)$/, '');
}

/**
 * Anchors of the headings of a Markdown document, as GitHub renders them: lower case,
 * punctuation other than `-` and `_` dropped, spaces to `-`.
 */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let unique = slug;
    for (let n = 1; anchors.has(unique); n++) unique = `${slug}-${n}`;
    anchors.add(unique);
  }
  return anchors;
}

/**
 * Metric families listed in a Prometheus text exposition (`# TYPE name type` lines), with
 * the bucket bounds (`le`) of each histogram.
 */
export function exposedFamilies(exposition: string): Map<string, { type: string; buckets: Set<string> }> {
  const families = new Map<string, { type: string; buckets: Set<string> }>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1]!, { type: type[2]!, buckets: new Set() });
      continue;
    }
    const bucket = /^(\S+)_bucket\{.*\ble="([^"]+)"/.exec(line);
    if (bucket) families.get(bucket[1]!)?.buckets.add(bucket[2]!);
  }
  return families;
}
