// A subgraph's package.json `trellis` entry: the one source of its name and port, read by
// the kit here and by the tools (dev, compose, Kubernetes) from the same file.
import { readFileSync } from 'node:fs';

export interface SubgraphManifest {
  /** `trellis.subgraph`: domain name, Postgres schema, service name. */
  name: string;
  /** `trellis.port`: the port it listens on when PORT is unset. */
  port: number;
  /** `trellis.worker.port`: its job worker's health and /metrics port when PORT is unset (no worker: absent). */
  workerPort?: number;
}

/** Reads and checks the `trellis` entry of the package.json at `file`. */
export function readManifest(file: URL): SubgraphManifest {
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
    trellis?: { subgraph?: unknown; port?: unknown; worker?: { port?: unknown } };
  };
  const { subgraph, port, worker } = pkg.trellis ?? {};
  if (typeof subgraph !== 'string' || !/^[a-z][a-z0-9]*$/.test(subgraph)) {
    throw new TypeError(`${file.pathname}: "trellis.subgraph" must be the subgraph's name (lowercase letters, digits)`);
  }
  const isPort = (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
  if (!isPort(port)) throw new TypeError(`${file.pathname}: "trellis.port" must be a port number (1 to 65535)`);
  if (worker !== undefined && !isPort(worker.port)) {
    throw new TypeError(`${file.pathname}: "trellis.worker.port" must be a port number (1 to 65535)`);
  }
  return { name: subgraph, port, ...(worker ? { workerPort: worker.port as number } : {}) };
}
