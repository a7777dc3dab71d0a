// Who may talk to whom in Kubernetes, derived from the workspace (`pnpm k8s`): a default-deny
// NetworkPolicy for the namespace, one policy per deployable that opens exactly the paths it
// needs — the ingress controller to the public paths (the gateway's /graphql, orders'
// /invoices), the gateway to every subgraph, a service to the services its settings name
// (orders → products for prices), Prometheus to the admin port — its own egress (callees,
// DNS, Postgres, Redis, the OTLP collector, external HTTPS endpoints it is given), and
// policies for Postgres, Redis and the collector when they run in the namespace. The
// Ingress routes the public paths and nothing else. tools/test/k8s-network.test.ts
// simulates the policies over the generated pods.
import { NAME_LABEL, PART_OF } from './k8s-objects.ts';
import { ADMIN_PORT, type ServiceInfo } from './workspace.ts';

/** Pods outside the namespace the policies name; overlays patch them to the cluster's. */
export const PEERS = {
  ingressController: { namespace: 'ingress-nginx', pod: { 'app.kubernetes.io/name': 'ingress-nginx' } },
  prometheus: { namespace: 'monitoring', pod: { 'app.kubernetes.io/name': 'prometheus' } },
  dns: { namespace: 'kube-system', pod: { 'k8s-app': 'kube-dns' } },
} as const;

/**
 * The stateful services Trellis uses and who uses them. They may be managed services outside
 * the cluster (egress is then opened by port: narrow it with an ipBlock in the overlay) or
 * pods in the namespace with these labels (then only their users may reach them).
 */
export const STORES = {
  postgres: { port: 5432, users: (s: ServiceInfo) => s.database },
  // The gateway's response cache and the subgraphs' invalidation relays (workers use none).
  redis: { port: 6379, users: (s: ServiceInfo) => s.kind !== 'worker' },
  // OTLP over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT in the runtime ConfigMap).
  'otel-collector': { port: 4318, users: (_s: ServiceInfo) => true },
} as const;
export type Store = keyof typeof STORES;

/** HTTPS endpoints outside the cluster a deployable is given: the gateway's JWKS, secrets named *_URL (webhooks). */
export function externalEndpoints(service: ServiceInfo): string[] {
  if (service.kind === 'gateway') return ['AUTH_JWKS_URL'];
  return Object.keys(service.secrets).filter((name) => name.endsWith('_URL'));
}

const namePod = (name: string) => ({ podSelector: { matchLabels: { [NAME_LABEL]: name } } });
const outside = (peer: { namespace: string; pod: Record<string, string> }) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } },
  podSelector: { matchLabels: peer.pod },
});
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));
const partOf = PART_OF;

/** The services that call `service` (the gateway calls every subgraph; others by their settings). */
export function callersOf(service: ServiceInfo, services: ServiceInfo[]): ServiceInfo[] {
  return services.filter((s) => s.calls.includes(service.name));
}

/** The NetworkPolicy of one deployable: who may reach it, and what it may reach. */
export function servicePolicy(service: ServiceInfo, services: ServiceInfo[]): Record<string, unknown> {
  const callers = callersOf(service, services);
  const callees = services.filter((s) => service.calls.includes(s.name));
  const ingress = [
    ...(callers.length ? [{ from: callers.map((c) => namePod(c.name)), ports: tcp(service.port) }] : []),
    ...(service.publicPaths.length ? [{ from: [outside(PEERS.ingressController)], ports: tcp(service.port) }] : []),
    { from: [outside(PEERS.prometheus)], ports: tcp(ADMIN_PORT) },
  ];
  const stores = (Object.keys(STORES) as Store[]).filter((store) => STORES[store].users(service));
  const egress = [
    ...callees.map((callee) => ({ to: [namePod(callee.name)], ports: tcp(callee.port) })),
    {
      to: [outside(PEERS.dns)],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
    // Any destination on the store's port: managed databases live outside the cluster.
    ...stores.map((store) => ({ ports: tcp(STORES[store].port) })),
    ...(externalEndpoints(service).length ? [{ ports: tcp(443) }] : []),
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: service.name, labels: { ...partOf, [NAME_LABEL]: service.name } },
    spec: {
      podSelector: { matchLabels: { [NAME_LABEL]: service.name, ...partOf } },
      policyTypes: ['Ingress', 'Egress'],
      ingress,
      egress,
    },
  };
}

/** Namespace-wide policies: default deny, and the stores' own when they run in the namespace. */
export function networkPolicies(services: ServiceInfo[]): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', labels: partOf },
      // Every pod of the namespace: nothing in, nothing out, unless a policy opens it.
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    ...(Object.keys(STORES) as Store[]).map((store) => {
      const users = services.filter((s) => STORES[store].users(s));
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `trellis-${store}`, labels: partOf },
        spec: {
          podSelector: { matchLabels: { [NAME_LABEL]: store } },
          policyTypes: ['Ingress'],
          ingress: [{ from: users.map((u) => namePod(u.name)), ports: tcp(STORES[store].port) }],
        },
      };
    }),
  ];
}

/** Host of the base Ingress; overlays replace it (and add TLS). */
export const PUBLIC_HOST = 'api.trellis.example';

/** The public entry: each service's public paths, exactly, on one host. */
export function ingress(services: ServiceInfo[]): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'trellis', labels: partOf },
    spec: {
      rules: [
        {
          host: PUBLIC_HOST,
          http: {
            paths: services.flatMap((service) =>
              service.publicPaths.map((path) => ({
                path,
                pathType: 'Exact',
                backend: { service: { name: service.name, port: { name: 'http' } } },
              })),
            ),
          },
        },
      ],
    },
  };
}
