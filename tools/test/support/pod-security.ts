// The Pod Security Standards' "restricted" level (baseline included), checked on a pod spec:
// https://kubernetes.io/docs/concepts/security/pod-security-standards/

const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

/** Violations of the Pod Security "restricted" level (baseline included) by a pod spec, one line each. */
export function restrictedViolations(name: string, pod: any): string[] {
  const found: string[] = [];
  const v = (what: string) => found.push(`${name}: ${what}`);
  const podContext = pod.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[field]) v(`${field} is set`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!type || !RESTRICTED_VOLUMES.includes(type)) v(`volume ${volume.name} is of type ${type}`);
  }
  for (const sysctl of podContext.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) v(`unsafe sysctl ${sysctl.name}`);
  const podSeccomp = podContext.seccompProfile?.type;
  for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const c = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (c.privileged) v(`${where} is privileged`);
    if (c.allowPrivilegeEscalation !== false) v(`${where} does not set allowPrivilegeEscalation: false`);
    if ((c.runAsNonRoot ?? podContext.runAsNonRoot) !== true) v(`${where} does not run as non-root (runAsNonRoot)`);
    if ((c.runAsUser ?? podContext.runAsUser) === 0) v(`${where} runs as user 0`);
    const seccomp = c.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      v(`${where} has no seccompProfile RuntimeDefault or Localhost (${seccomp ?? 'unset'})`);
    if (!(c.capabilities?.drop ?? []).includes('ALL')) v(`${where} does not drop ALL capabilities`);
    for (const added of c.capabilities?.add ?? [])
      if (added !== 'NET_BIND_SERVICE') v(`${where} adds capability ${added}`);
    for (const port of container.ports ?? []) if (port.hostPort) v(`${where} uses hostPort ${port.hostPort}`);
    if (c.procMount && c.procMount !== 'Default') v(`${where} sets procMount ${c.procMount}`);
  }
  return found;
}
