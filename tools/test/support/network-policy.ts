// NetworkPolicy semantics: whether the policies of a namespace let one endpoint open a
// connection to another (ingress side and egress side both must allow it).
import { type K8sObject, type Labels, selects } from './kubernetes.ts';

/** An endpoint on the network: a pod (namespace, labels, named ports) or an address outside the cluster. */
export interface Endpoint {
  name: string;
  namespace?: string;
  labels: Labels;
  /** Named container ports (for policies that name a port). */
  ports?: Record<string, number>;
}

function peerMatches(peer: any, policyNamespace: string, endpoint: Endpoint): boolean {
  if (peer.ipBlock) return endpoint.namespace === undefined;
  if (endpoint.namespace === undefined) return false;
  if (peer.namespaceSelector) {
    if (!selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': endpoint.namespace })) return false;
    return selects(peer.podSelector, endpoint.labels);
  }
  return endpoint.namespace === policyNamespace && selects(peer.podSelector, endpoint.labels);
}

function portMatches(ports: any[] | undefined, port: number, protocol: string, destination: Endpoint): boolean {
  if (!ports?.length) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const number = typeof p.port === 'number' ? p.port : destination.ports?.[p.port];
    return number !== undefined && port >= number && port <= (p.endPort ?? number);
  });
}

/** Whether NetworkPolicies let `from` open a connection to `to` on port/protocol. */
export function connectionAllowed(
  policies: K8sObject[],
  namespace: string,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol = 'TCP',
): boolean {
  const direction = (endpoint: Endpoint, type: 'Ingress' | 'Egress') =>
    policies.filter(
      (p) =>
        p.kind === 'NetworkPolicy' &&
        endpoint.namespace !== undefined &&
        (p.metadata.namespace ?? namespace) === endpoint.namespace &&
        (p.spec.policyTypes ?? ['Ingress']).includes(type) &&
        selects(p.spec.podSelector, endpoint.labels),
    );
  const ingress = direction(to, 'Ingress');
  const ingressOk =
    to.namespace === undefined ||
    !ingress.length ||
    ingress.some((p) =>
      (p.spec.ingress ?? []).some(
        (rule: any) =>
          (!rule.from?.length ||
            rule.from.some((peer: any) => peerMatches(peer, p.metadata.namespace ?? namespace, from))) &&
          portMatches(rule.ports, port, protocol, to),
      ),
    );
  const egress = direction(from, 'Egress');
  const egressOk =
    from.namespace === undefined ||
    !egress.length ||
    egress.some((p) =>
      (p.spec.egress ?? []).some(
        (rule: any) =>
          (!rule.to?.length || rule.to.some((peer: any) => peerMatches(peer, p.metadata.namespace ?? namespace, to))) &&
          portMatches(rule.ports, port, protocol, to),
      ),
    );
  return ingressOk && egressOk;
}
