// The generated NetworkPolicies, simulated over the generated pods and the peers they name
// (ingress controller, Prometheus, cluster DNS, Postgres, Redis, the OTLP collector, the
// internet): every connection between them is allowed exactly when the deployment needs it —
// what the Ingress routes, the URLs in each Deployment's environment (the gateway's
// SUBGRAPH_URL_*, orders' CATALOGUE_URL), scraping the admin port, DNS, the stores a pod has
// credentials for, external HTTPS endpoints it is given — and denied otherwise (reviews →
// products, anything → an admin port but Prometheus, the ingress → a subgraph). A policy
// that cuts a needed path fails naming the service. The Ingress routes the public paths only.
import { describe, expect, it } from 'vitest';
import { renderK8s } from '../src/k8s.ts';
import { PEERS } from '../src/k8s-network.ts';
import { K8S_BASE, NAME_LABEL, NAMESPACE } from '../src/k8s-objects.ts';
import { ADMIN_PORT, listSubgraphs, ROOT, type SubgraphInfo } from '../src/workspace.ts';
import { type K8sObject, objectsOf } from './support/kubernetes.ts';
import { connectionAllowed, type Endpoint } from './support/network-policy.ts';

type Env = { name: string; value?: string; valueFrom?: any };
interface Path {
  from: string;
  to: string;
  port: number;
  protocol?: string;
  why: string;
}

/** The pods of the deployment and every peer the policies may name, as endpoints. */
function endpoints(objects: K8sObject[]): Map<string, Endpoint> {
  const map = new Map<string, Endpoint>();
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    const container = d.spec.template.spec.containers[0];
    map.set(d.metadata.name, {
      name: d.metadata.name,
      namespace: NAMESPACE,
      labels: d.spec.template.metadata.labels,
      ports: Object.fromEntries(
        container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
      ),
    });
  }
  for (const store of ['postgres', 'redis', 'otel-collector'])
    map.set(store, { name: store, namespace: NAMESPACE, labels: { [NAME_LABEL]: store } });
  map.set('ingress-controller', {
    name: 'ingress-controller',
    namespace: PEERS.ingressController.namespace,
    labels: PEERS.ingressController.pod,
  });
  map.set('prometheus', { name: 'prometheus', namespace: PEERS.prometheus.namespace, labels: PEERS.prometheus.pod });
  map.set('kube-dns', { name: 'kube-dns', namespace: PEERS.dns.namespace, labels: PEERS.dns.pod });
  map.set('other-namespace', { name: 'other-namespace', namespace: 'default', labels: { app: 'anything' } });
  map.set('internet', { name: 'internet', labels: {} });
  return map;
}

/** What the deployment needs, read from the manifests themselves (not from the policy generator). */
function neededPaths(objects: K8sObject[]): Path[] {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const services = new Map(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]));
  const portOf = (name: string) => services.get(name)!.spec.ports[0].port as number;
  const paths: Path[] = [];
  for (const rule of objects.find((o) => o.kind === 'Ingress')!.spec.rules)
    for (const p of rule.http.paths)
      paths.push({
        from: 'ingress-controller',
        to: p.backend.service.name,
        port: portOf(p.backend.service.name),
        why: `Ingress ${p.path}`,
      });
  for (const d of deployments) {
    const name = d.metadata.name;
    const env = d.spec.template.spec.containers[0].env as Env[];
    for (const { name: variable, value } of env) {
      if (!value) continue;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        continue;
      }
      if (services.has(url.hostname))
        paths.push({ from: name, to: url.hostname, port: Number(url.port), why: variable });
    }
    paths.push({ from: 'prometheus', to: name, port: ADMIN_PORT, why: 'metrics scrape' });
    paths.push({ from: name, to: 'kube-dns', port: 53, protocol: 'UDP', why: 'DNS' });
    paths.push({ from: name, to: 'kube-dns', port: 53, protocol: 'TCP', why: 'DNS' });
    const has = (variable: string) => env.some((e) => e.name === variable);
    if (has('DATABASE_URL')) paths.push({ from: name, to: 'postgres', port: 5432, why: 'DATABASE_URL' });
    if (has('REDIS_URL')) paths.push({ from: name, to: 'redis', port: 6379, why: 'REDIS_URL' });
    if (has('OTEL_EXPORTER_OTLP_ENDPOINT')) paths.push({ from: name, to: 'otel-collector', port: 4318, why: 'OTLP' });
    const external = env.filter(
      (e) => e.valueFrom?.secretKeyRef && /_URL$/.test(e.name) && !/^(DATABASE|REDIS)_URL$/.test(e.name),
    );
    for (const e of external) paths.push({ from: name, to: 'internet', port: 443, why: e.name });
  }
  return paths;
}

/** Every connection whose verdict differs from the need, one line each naming both ends. */
function policyProblems(objects: K8sObject[]): string[] {
  const all = endpoints(objects);
  const needed = neededPaths(objects);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const problems: string[] = [];
  const candidatePorts = (to: Endpoint) =>
    to.name === 'internet'
      ? [443]
      : to.name === 'kube-dns'
        ? [53]
        : to.ports
          ? Object.values(to.ports)
          : [{ postgres: 5432, redis: 6379, 'otel-collector': 4318 }[to.name] ?? 0];
  for (const from of all.values()) {
    for (const to of all.values()) {
      if (from === to) continue;
      for (const port of candidatePorts(to)) {
        for (const protocol of to.name === 'kube-dns' ? ['UDP', 'TCP'] : ['TCP']) {
          const need = needed.find(
            (p) => p.from === from.name && p.to === to.name && p.port === port && (p.protocol ?? 'TCP') === protocol,
          );
          const allowed = connectionAllowed(policies, NAMESPACE, from, to, port, protocol);
          if (need && !allowed)
            problems.push(`${from.name} → ${to.name}:${port}/${protocol} is denied but needed (${need.why})`);
          // Peers outside the namespace are governed by their own policies: only judge what ours decide.
          if (!need && allowed && (from.namespace === NAMESPACE || to.namespace === NAMESPACE))
            problems.push(`${from.name} → ${to.name}:${port}/${protocol} is allowed but not needed`);
        }
      }
    }
  }
  return problems;
}

const baseObjects = (subgraphs: SubgraphInfo[] = listSubgraphs()) =>
  objectsOf(renderK8s(subgraphs), (p) => p.startsWith(`${K8S_BASE}/`));

describe('Kubernetes network policies', () => {
  it('allow exactly the connections the deployment needs', () => {
    const objects = baseObjects();
    expect(policyProblems(objects)).toEqual([]);
    // The paths the issue names, stated outright.
    const all = endpoints(objects);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const can = (from: string, to: string, port: number) =>
      connectionAllowed(policies, NAMESPACE, all.get(from)!, all.get(to)!, port);
    expect(can('orders', 'products', 4002)).toBe(true);
    expect(can('gateway', 'reviews', 4004)).toBe(true);
    expect(can('ingress-controller', 'gateway', 4000)).toBe(true);
    expect(can('ingress-controller', 'orders', 4005)).toBe(true);
    expect(can('reviews', 'products', 4002)).toBe(false);
    expect(can('orders-worker', 'products', 4002)).toBe(false);
    expect(can('ingress-controller', 'products', 4002)).toBe(false);
    expect(can('ingress-controller', 'gateway', ADMIN_PORT)).toBe(false);
    expect(can('gateway', 'products', ADMIN_PORT)).toBe(false);
    expect(can('prometheus', 'gateway', ADMIN_PORT)).toBe(true);
    expect(can('prometheus', 'gateway', 4000)).toBe(false);
    expect(can('other-namespace', 'gateway', 4000)).toBe(false);
    expect(can('gateway', 'postgres', 5432)).toBe(false);
    expect(can('reviews-worker', 'redis', 6379)).toBe(false);
    expect(can('orders-worker', 'internet', 443)).toBe(true);
    expect(can('products', 'internet', 443)).toBe(false);
  });

  it('give a freshly scaffolded subgraph and its worker their policies', () => {
    const shipments: SubgraphInfo = {
      name: 'shipments',
      port: 4006,
      dir: `${ROOT}/subgraphs/shipments`,
      schemaPath: '',
      servicePath: '',
      mainPath: '',
      // It reads prices like orders does.
      env: { CATALOGUE_URL: 'http://products:4002/graphql' },
      publicPaths: [],
      secrets: {},
      mappers: {},
      worker: { port: 4106, mainPath: '', secrets: {}, env: {} },
    };
    const objects = baseObjects([...listSubgraphs(), shipments]);
    expect(objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name)).toEqual(
      expect.arrayContaining(['shipments', 'shipments-worker']),
    );
    expect(policyProblems(objects)).toEqual([]);
    const all = endpoints(objects);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(connectionAllowed(policies, NAMESPACE, all.get('gateway')!, all.get('shipments')!, 4006)).toBe(true);
    expect(connectionAllowed(policies, NAMESPACE, all.get('shipments')!, all.get('products')!, 4002)).toBe(true);
    expect(connectionAllowed(policies, NAMESPACE, all.get('shipments')!, all.get('orders')!, 4005)).toBe(false);
  });

  it('a policy that cuts a needed path fails, naming the service', () => {
    const objects = baseObjects();
    const products = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'products')!;
    products.spec.ingress[0].from = products.spec.ingress[0].from.filter(
      (peer: any) => peer.podSelector.matchLabels[NAME_LABEL] !== 'orders',
    );
    expect(policyProblems(objects)).toContain('orders → products:4002/TCP is denied but needed (CATALOGUE_URL)');
    // And one that opens too much fails as well.
    const opened = baseObjects();
    opened.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'products')!.spec.ingress.push({});
    // (reviews stays cut off by its own egress policy; a pod of another namespace gets in.)
    expect(policyProblems(opened)).toContain('other-namespace → products:4002/TCP is allowed but not needed');
  });

  it('the Ingress routes the public paths and nothing else', () => {
    const ingress = baseObjects().find((o) => o.kind === 'Ingress')!;
    const routes = ingress.spec.rules.flatMap((r: any) =>
      r.http.paths.map(
        (p: any) => `${p.pathType} ${p.path} → ${p.backend.service.name}:${p.backend.service.port.name}`,
      ),
    );
    expect(routes).toEqual(['Exact /graphql → gateway:http', 'Exact /invoices → orders:http']);
  });
});
