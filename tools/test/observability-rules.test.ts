// The alerting and dashboard configuration, checked statically: Prometheus rule files are
// well formed and every PromQL expression parses (Prometheus's Lezer grammar; promtool's
// check and its unit tests of the alerts when promtool is installed), every alert links a
// runbook section that exists and a dashboard that exists, the availability SLIs count
// exactly the server-side error codes, and the Grafana dashboards and provisioning are valid.
// That every metric used is really emitted is checked against running services in
// observability-metrics.e2e.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, httpStatusFor } from '@trellis/errors';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  allPanels,
  DASHBOARDS_DIR,
  dashboardQueries,
  exposedFamilies,
  GRAFANA_PROVISIONING_DIR,
  isRecorded,
  listFiles,
  loadDashboards,
  loadRuleFiles,
  markdownAnchors,
  metricFamily,
  promqlErrors,
  RULE_TESTS_DIR,
  RULES_DIR,
  RUNBOOKS_PATH,
  selectors,
  variablesUsed,
} from '../src/observability.ts';

const ruleFiles = loadRuleFiles();
const rules = ruleFiles.flatMap((file) =>
  file.groups.flatMap((group) => group.rules.map((rule) => ({ file: file.path, group: group.name, rule }))),
);
const alerts = rules.filter(({ rule }) => rule.alert);
const dashboards = loadDashboards();
const runbookAnchors = markdownAnchors(readFileSync(RUNBOOKS_PATH, 'utf8'));
const PROMETHEUS_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('Prometheus rule files (ops/prometheus/rules)', () => {
  it('exist and hold both recording rules and alerts', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(rules.filter(({ rule }) => rule.record).length).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThan(0);
  });

  it('are well formed: unique group names, one of record/alert per rule, valid names and durations', () => {
    const groupNames = ruleFiles.flatMap((file) => file.groups.map((group) => group.name));
    expect(new Set(groupNames).size).toBe(groupNames.length);
    for (const file of ruleFiles) {
      for (const group of file.groups) {
        expect(group.rules.length, group.name).toBeGreaterThan(0);
        if (group.interval !== undefined) expect(group.interval).toMatch(PROMETHEUS_DURATION);
      }
    }
    for (const { group, rule } of rules) {
      const where = `${group}: ${rule.record ?? rule.alert}`;
      expect(Boolean(rule.record) !== Boolean(rule.alert), where).toBe(true);
      expect(typeof rule.expr, where).toBe('string');
      if (rule.record) {
        // Recorded series follow the level:metric:operations convention.
        expect(rule.record, where).toMatch(METRIC_NAME);
        expect(rule.record.split(':'), where).toHaveLength(3);
        expect(rule.for, where).toBeUndefined();
      }
      if (rule.for !== undefined) expect(rule.for, where).toMatch(PROMETHEUS_DURATION);
      for (const name of Object.keys(rule.labels ?? {})) expect(name, where).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });

  it('hold PromQL that parses', () => {
    for (const { group, rule } of rules) {
      expect(promqlErrors(rule.expr), `${group}: ${rule.record ?? rule.alert}\n${rule.expr}`).toEqual([]);
    }
  });

  it('use only recorded series that some rule records', () => {
    const recorded = new Set(rules.flatMap(({ rule }) => (rule.record ? [rule.record] : [])));
    for (const { rule } of rules) {
      for (const { metric } of selectors(rule.expr)) {
        if (isRecorded(metric)) expect(recorded, `${rule.record ?? rule.alert} uses ${metric}`).toContain(metric);
      }
    }
  });

  it('give every alert a severity, a summary, a description, a runbook section and a dashboard', () => {
    const uids = new Set(dashboards.map(({ dashboard }) => dashboard.uid));
    for (const { rule } of alerts) {
      const name = rule.alert!;
      expect(['page', 'ticket'], name).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, name).toBeTruthy();
      expect(rule.annotations?.description, name).toBeTruthy();
      const runbook = /^docs\/runbooks\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? '');
      expect(runbook, `${name}: runbook_url ${rule.annotations?.runbook_url}`).not.toBeNull();
      expect(runbookAnchors, `${name}: docs/runbooks.md has no section #${runbook![1]}`).toContain(runbook![1]);
      // One section per alert, named after it.
      expect(runbook![1], name).toBe(name.toLowerCase());
      const dashboard = /^\/d\/([a-z0-9-]+)$/.exec(rule.annotations?.dashboard ?? '');
      expect(dashboard, `${name}: dashboard ${rule.annotations?.dashboard}`).not.toBeNull();
      expect(uids, `${name}: no dashboard with uid ${dashboard![1]}`).toContain(dashboard![1]);
    }
  });

  it('count as availability errors exactly the server-side error codes (HTTP 5xx)', () => {
    const serverCodes = Object.values(ErrorCode)
      .filter((code) => httpStatusFor(code) >= 500)
      .sort();
    const availability = rules.filter(
      ({ rule }) => rule.record?.startsWith('slo:sli_error:') && rule.labels?.sli === 'availability',
    );
    expect(availability.length).toBeGreaterThan(0);
    for (const { rule } of availability) {
      const codes = selectors(rule.expr).flatMap((s) => s.matchers.filter((m) => m.label === 'code'));
      expect(codes, rule.expr).toHaveLength(1);
      expect(codes[0]!.op).toBe('=~');
      expect(codes[0]!.value.split('|').sort(), rule.expr).toEqual(serverCodes);
    }
  });

  it('measure the latency SLIs at the thresholds of docs/slo.md (300 ms catalogue, 500 ms order)', () => {
    const thresholds = { catalogue_read: '0.3', place_order: '0.5' } as Record<string, string>;
    const latency = rules.filter(
      ({ rule }) => rule.record?.startsWith('slo:sli_error:') && rule.labels?.sli === 'latency',
    );
    expect(new Set(latency.map(({ rule }) => rule.labels?.slo))).toEqual(new Set(Object.keys(thresholds)));
    for (const { rule } of latency) {
      const le = selectors(rule.expr).flatMap((s) => s.matchers.filter((m) => m.label === 'le').map((m) => m.value));
      expect(le, rule.expr).toEqual([thresholds[rule.labels!.slo!]]);
    }
  });

  it.skipIf(!promtool)(
    'pass `promtool check rules` and the alert unit tests in ops/prometheus/tests',
    () => {
      execFileSync('promtool', ['check', 'rules', ...listFiles(RULES_DIR, '.yml')], { stdio: 'pipe' });
      // promtool resolves rule_files relative to the test file.
      const result = spawnSync('promtool', ['test', 'rules', ...listFiles(RULE_TESTS_DIR, '.yml')], {
        encoding: 'utf8',
      });
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    },
    180_000,
  );
});

describe('Grafana dashboards (ops/grafana/dashboards)', () => {
  it('cover the gateway, the subgraphs, the cache and the jobs, with unique uids', () => {
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.sort()).toEqual(['trellis-cache', 'trellis-gateway', 'trellis-jobs', 'trellis-subgraph']);
  });

  it('are valid dashboard JSON: schema version, titles, panels on the 24-column grid', () => {
    for (const { path, dashboard } of dashboards) {
      expect(dashboard.schemaVersion, path).toBeGreaterThanOrEqual(36);
      expect(dashboard.title, path).toMatch(/^Trellis \/ /);
      const panels = allPanels(dashboard);
      expect(panels.length, path).toBeGreaterThan(0);
      const ids = panels.map((panel) => panel.id);
      expect(new Set(ids).size, `${path}: panel ids`).toBe(ids.length);
      for (const panel of panels) {
        const { x, y, w, h } = panel.gridPos;
        expect(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, `${path}: ${panel.title}`).toBe(true);
      }
    }
  });

  it('query the Prometheus data source (uid prometheus) with PromQL that parses', () => {
    for (const { path, dashboard } of dashboards) {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        expect(panel.datasource?.uid, `${path}: ${panel.title}`).toBe('prometheus');
        expect(panel.targets?.length, `${path}: ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('prometheus');
      }
      for (const { where, expr } of dashboardQueries(dashboard)) {
        expect(expr.trim(), where).not.toBe('');
        expect(promqlErrors(expr), `${where}\n${expr}`).toEqual([]);
        expect(selectors(expr).length, `${where}: no metric`).toBeGreaterThan(0);
      }
    }
  });

  it('define every variable their queries use', () => {
    for (const { path, dashboard } of dashboards) {
      const defined = new Set((dashboard.templating?.list ?? []).map((variable) => variable.name));
      for (const variable of dashboard.templating?.list ?? []) {
        if (variable.type === 'query')
          expect(variable.datasource?.uid, `${path}: $${variable.name}`).toBe('prometheus');
      }
      for (const { where, expr } of dashboardQueries(dashboard)) {
        for (const name of variablesUsed(expr)) expect(defined, `${where}: $${name}`).toContain(name);
      }
    }
  });

  it('are provisioned from the mounted folder, with the Prometheus and Jaeger data sources', () => {
    const provider = parseYaml(readFileSync(join(GRAFANA_PROVISIONING_DIR, 'dashboards', 'trellis.yml'), 'utf8'));
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
    const sources = parseYaml(readFileSync(join(GRAFANA_PROVISIONING_DIR, 'datasources', 'datasources.yml'), 'utf8'));
    expect(sources.apiVersion).toBe(1);
    const byUid = Object.fromEntries(sources.datasources.map((source: { uid: string }) => [source.uid, source]));
    expect(byUid.prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(byUid.jaeger).toMatchObject({ type: 'jaeger', url: 'http://jaeger:16686' });
    expect(listFiles(DASHBOARDS_DIR, '.json')).toHaveLength(dashboards.length);
  });
});

describe('PromQL, Markdown and exposition readers', () => {
  it('find the selectors of an expression, with their matchers, and report syntax errors', () => {
    const expr =
      'sum by (le) (rate(a_bucket{job="gateway",le="0.3"}[5m])) / on () group_left b:c:d + max_over_time(e{x=~"1|2",y!=\'z\'}[5m:1m])';
    expect(promqlErrors(expr)).toEqual([]);
    expect(selectors(expr)).toEqual([
      {
        metric: 'a_bucket',
        matchers: [
          { label: 'job', op: '=', value: 'gateway' },
          { label: 'le', op: '=', value: '0.3' },
        ],
      },
      { metric: 'b:c:d', matchers: [] },
      {
        metric: 'e',
        matchers: [
          { label: 'x', op: '=~', value: '1|2' },
          { label: 'y', op: '!=', value: 'z' },
        ],
      },
    ]);
    expect(promqlErrors('sum(rate(a[5m])')).not.toEqual([]);
    expect(promqlErrors('rate(a[$__rate_interval])')).not.toEqual([]);
    expect(promqlErrors('a{job="x"')).not.toEqual([]);
  });

  it('compute heading anchors as GitHub does', () => {
    const anchors = markdownAnchors(
      '# Runbooks\n## Where to look\n### SubgraphUnavailable\n```\n# not a heading\n```\n## Where to look\n',
    );
    expect([...anchors]).toEqual(['runbooks', 'where-to-look', 'subgraphunavailable', 'where-to-look-1']);
  });

  it('read metric families and histogram buckets from a Prometheus exposition', () => {
    const families = exposedFamilies(
      [
        '# HELP d Request duration',
        '# TYPE d histogram',
        'd_bucket{le="0.1",operation="A"} 1',
        'd_bucket{operation="A",le="0.3"} 2',
        'd_bucket{le="+Inf",operation="A"} 2',
        'd_sum{operation="A"} 0.2',
        'd_count{operation="A"} 2',
        '# TYPE c_total counter',
        'c_total{code="OK"} 3',
      ].join('\n'),
    );
    expect([...families.keys()]).toEqual(['d', 'c_total']);
    expect([...families.get('d')!.buckets]).toEqual(['0.1', '0.3', '+Inf']);
    expect(metricFamily('d_bucket')).toBe('d');
    expect(metricFamily('c_total')).toBe('c_total');
  });
});
