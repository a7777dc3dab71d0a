// Kubernetes objects for the tests, offline (there is no cluster, kubectl or kustomize here):
// the objects of generated files, the pods their Deployments run, and label selectors. The
// simulations built on them (prometheus-discovery.ts, network-policy.ts, pod-security.ts)
// follow the documented semantics of the real components, reduced to the features the
// manifests use; anything else is refused rather than guessed.
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  [key: string]: unknown;
};

/** The objects of generated files (path → YAML), in file order; other files (JSON, SDL) are skipped. */
export function objectsOf(files: Map<string, string>, paths: (path: string) => boolean): K8sObject[] {
  return [...files]
    .filter(([path]) => paths(path) && /\.ya?ml$/.test(path) && !path.endsWith('kustomization.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((doc) => doc.toJS() as K8sObject))
    .filter((object) => object && typeof object.kind === 'string');
}

export type Labels = Record<string, string>;

export interface Pod {
  name: string;
  namespace: string;
  labels: Labels;
  ip: string;
  containers: { name: string; ports: { name?: string; containerPort: number; protocol?: string }[] }[];
}

/** Pods a Deployment would run (one replica is enough for labels), in `namespace`. */
export function podsOf(objects: K8sObject[], namespace: string): Pod[] {
  return objects
    .filter((o) => o.kind === 'Deployment')
    .map((deployment, index) => ({
      name: `${deployment.metadata.name}-7c9d8f6b5-x${index}`,
      namespace,
      labels: deployment.spec.template.metadata.labels ?? {},
      ip: `10.0.0.${index + 10}`,
      containers: deployment.spec.template.spec.containers,
    }));
}

type LabelSelector = {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/** A Kubernetes label selector; `{}` selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = expression.key in labels;
    const value = labels[expression.key];
    const ok =
      expression.operator === 'In'
        ? has && expression.values!.includes(value!)
        : expression.operator === 'NotIn'
          ? !has || !expression.values!.includes(value!)
          : expression.operator === 'Exists'
            ? has
            : expression.operator === 'DoesNotExist'
              ? !has
              : (() => {
                  throw new Error(`selector operator ${expression.operator}`);
                })();
    if (!ok) return false;
  }
  return true;
}
