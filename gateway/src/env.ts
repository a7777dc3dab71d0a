// The gateway's environment and command-line flags: the only place it reads process.env.
import { common, loadEnv, z } from '@trellis/config';

export interface GatewayConfig {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  logLevel: string;
  supergraphPath: string;
  /** Per-subgraph routing URL overrides (SUBGRAPH_URL_<NAME>), e.g. in containers. */
  subgraphUrls: Record<string, string>;
}

/** Reads `--supergraph FILE` and `--port N` (which win over SUPERGRAPH_PATH and PORT). */
function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--(supergraph|port|host)(?:=(.*))?$/.exec(arg);
    if (!match) continue;
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`Missing value for --${match[1]}`);
    flags[match[1] as string] = value;
  }
  return flags;
}

export function gatewayConfig(
  argv: readonly string[] = process.argv.slice(2),
  source: Record<string, string | undefined> = process.env,
): GatewayConfig {
  const flags = parseFlags(argv);
  const env = loadEnv(
    {
      NODE_ENV: common.NODE_ENV,
      PORT: common.PORT.default(4000),
      HOST: common.HOST,
      LOG_LEVEL: common.LOG_LEVEL,
      SUPERGRAPH_PATH: z.string().default('supergraph.graphql'),
    },
    {
      ...source,
      ...(flags.port !== undefined ? { PORT: flags.port } : {}),
      ...(flags.host !== undefined ? { HOST: flags.host } : {}),
      ...(flags.supergraph !== undefined ? { SUPERGRAPH_PATH: flags.supergraph } : {}),
    },
  );
  const subgraphUrls: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    const match = /^SUBGRAPH_URL_([A-Z0-9_]+)$/.exec(key);
    if (match?.[1] && value) subgraphUrls[match[1].toLowerCase()] = value;
  }
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    supergraphPath: env.SUPERGRAPH_PATH,
    subgraphUrls,
  };
}
