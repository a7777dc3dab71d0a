// Every metric the alert rules and the Grafana dashboards use is emitted by a running
// service: the real graph (gateway with its response cache, every subgraph) serves a few
// operations — a cache miss and a hit, a client error — then /metrics of each service is
// scraped and every metric family the PromQL refers to must be there, on the service its
// `job` matcher names, with the histogram buckets (`le`) the SLIs count against.
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type GraphWorker, startGraph, startGraphWorker, type TestGraph } from '../src/harness.ts';
import {
  dashboardQueries,
  exposedFamilies,
  isRecorded,
  loadDashboards,
  loadRuleFiles,
  metricFamily,
  type Selector,
  selectors,
} from '../src/observability.ts';
import { storefront } from '../src/storefront.ts';
import { listSubgraphs } from '../src/workspace.ts';

/** Series Prometheus writes itself for every scrape target; never on a /metrics page. */
const PROMETHEUS_OWN = new Set(['up']);

const CATALOGUE = storefront('Catalogue');
const PRODUCT_PAGE = /* GraphQL */ `
  query ProductPage($id: ID!) {
    product(id: $id) { id name price shippingEstimate reviewCount reviews(first: 3) { edges { node { rating } } } }
  }
`;

let graph: TestGraph;
/** Each subgraph's job worker (`trellis.worker`), a real process on its subgraph's database. */
let workers: GraphWorker[] = [];

beforeAll(async () => {
  // The response cache on (in memory) and the subgraphs' outbox relays publishing to it, so
  // their metrics exist as they do in production.
  graph = await startGraph(inject('databaseUrl'), {
    responseCache: { enabled: true, timeoutMs: 50 },
    invalidation: true,
  });
  workers = await Promise.all(
    listSubgraphs()
      .filter((info) => info.worker && graph.subgraphs[info.name])
      .map((info) => startGraphWorker(graph, info.name)),
  );
}, 120_000);
afterAll(async () => {
  for (const worker of workers) worker.process.killAll();
  await graph?.stop();
});

interface Use {
  where: string;
  selector: Selector;
}

function uses(): Use[] {
  const found: Use[] = [];
  for (const file of loadRuleFiles()) {
    for (const group of file.groups) {
      for (const rule of group.rules) {
        const where = `rule ${rule.record ?? rule.alert}`;
        for (const selector of selectors(rule.expr)) found.push({ where, selector });
      }
    }
  }
  for (const { dashboard } of loadDashboards()) {
    for (const { where, expr } of dashboardQueries(dashboard)) {
      for (const selector of selectors(expr)) found.push({ where: `dashboard ${where}`, selector });
    }
  }
  return found.filter(({ selector }) => !isRecorded(selector.metric) && !PROMETHEUS_OWN.has(selector.metric));
}

describe('metrics used by the rules and dashboards', () => {
  it('are all emitted by the running services', async () => {
    // Traffic: a catalogue page twice (miss, then hit), a product page, a client error.
    const first = await graphql(graph.url, CATALOGUE, { first: 5 });
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await graphql(graph.url, CATALOGUE, { first: 5 });
    expect(second.headers.get('x-cache')).toBe('HIT');
    const page = await graphql(graph.url, PRODUCT_PAGE, { id: '1' });
    expect(page.body.errors).toBeUndefined();
    const broken = await graphql(graph.url, 'query Broken { product(id: "1") { noSuchField } }');
    expect(broken.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    // Scrape every service the way Prometheus does: its job is its name.
    const targets: Record<string, string> = { gateway: `${graph.gateway.url}/metrics` };
    for (const [name, subgraph] of Object.entries(graph.subgraphs)) targets[name] = `${subgraph.running.url}/metrics`;
    for (const worker of workers) targets[worker.job] = `http://127.0.0.1:${worker.port}/metrics`;
    expect(workers.map((w) => w.job).sort()).toEqual(['orders-worker', 'reviews-worker']);
    const scraped: Record<string, ReturnType<typeof exposedFamilies>> = {};
    for (const [job, url] of Object.entries(targets)) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      scraped[job] = exposedFamilies(await response.text());
      expect(scraped[job]!.size, job).toBeGreaterThan(0);
    }
    const subgraphJobs = Object.keys(graph.subgraphs);

    /** The services a selector's `job` matcher picks; any service when it names none scraped here. */
    const jobsFor = (selector: Selector): string[] => {
      const job = selector.matchers.find((m) => m.label === 'job');
      if (job?.op === '=' && job.value === '$subgraph') return subgraphJobs;
      if (job?.op === '=' && job.value in scraped) return [job.value];
      return [];
    };

    const missing = new Set<string>();
    for (const { where, selector } of uses()) {
      const family = metricFamily(selector.metric);
      const jobs = jobsFor(selector);
      const emitters = jobs.length ? jobs : Object.keys(scraped);
      const emitting = emitters.filter((job) => scraped[job]!.has(family) || scraped[job]!.has(selector.metric));
      if (jobs.length ? emitting.length < jobs.length : emitting.length === 0) {
        const absent = jobs.length ? jobs.filter((job) => !emitting.includes(job)) : ['any service'];
        missing.add(`${family} (not on ${absent.join(', ')}; used by ${where})`);
        continue;
      }
      // A bucket bound an SLI counts against must be one of the histogram's buckets.
      const le = selector.matchers.find((m) => m.label === 'le' && m.op === '=');
      if (le && selector.metric.endsWith('_bucket')) {
        for (const job of emitting) {
          if (!scraped[job]!.get(family)?.buckets.has(le.value)) {
            missing.add(`${family}{le="${le.value}"} (no such bucket on ${job}; used by ${where})`);
          }
        }
      }
    }
    // One line per family is enough to act on.
    const byFamily = new Map<string, string>();
    for (const line of missing) {
      const key = line.split(' ')[0]!;
      if (!byFamily.has(key)) byFamily.set(key, line);
    }
    expect([...byFamily.values()].sort()).toEqual([]);
  });
});
