// The gateway's environment and command-line flags: the only place it reads process.env.
import { common, exitWith, httpFields, loadEnv, z } from '@trellis/config';
import {
  type ClientLabelOptions,
  type ConnectionLimits,
  type CorsConfig,
  DEV_CORS_ORIGINS,
  httpLimits,
  type InputBounds,
  parseClientNames,
  parseCorsOrigins,
} from '@trellis/http';
import { DEV_AUTH } from '@trellis/identity';
import { compileTrustedProxies } from './client-address.ts';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig } from './rate-limit.ts';
import { DEFAULT_CONCURRENCY } from './subgraph-fetch/index.ts';
import { DEFAULT_USAGE, type UsageConfig } from './usage/recorder.ts';

export interface GatewayConfig {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  /** Port of /metrics and /admin/* (ADMIN_PORT); unset: served on `port`. */
  adminPort?: number | undefined;
  host: string;
  logLevel: string;
  supergraphPath: string;
  /** Per-subgraph routing URL overrides (SUBGRAPH_URL_<NAME>), e.g. in containers. */
  subgraphUrls: Record<string, string>;
  limits: Limits;
  /**
   * Limits, identity, authorization, retries and the breaker; `false` only to measure what
   * they cost (GATEWAY_FEATURES=off, benchmarks). @default true
   */
  features: boolean;
  /** Deadline of one subgraph fetch, retries included; keep it below clients' deadline. @default 5000 */
  subgraphTimeoutMs: number;
  /**
   * Identical subgraph queries in flight at once share one fetch (SUBGRAPH_DEDUP); `off`
   * only to measure what deduplication gives. @default true
   */
  subgraphDedup?: boolean;
  /**
   * Identical queries in flight at once share one execution of their plan (OPERATION_DEDUP,
   * operation-dedupe.ts); `off` only to measure what it gives. @default true
   */
  operationDedup?: boolean;
  /**
   * Fetches in flight per subgraph (SUBGRAPH_MAX_CONCURRENCY, per subgraph
   * SUBGRAPH_MAX_CONCURRENCY_<NAME>) and the longest wait for a slot (SUBGRAPH_QUEUE_TIMEOUT_MS).
   */
  subgraphConcurrency: { maxInFlight: number; queueMs: number; perSubgraph: Record<string, number> };
  /** Whole-response cache: `redisUrl` (shared by replicas) or in memory; off to measure. */
  responseCache: {
    enabled: boolean;
    redisUrl?: string | undefined;
    timeoutMs: number;
    /** Prefix of Redis keys and the invalidation channel (CACHE_NAMESPACE). @default 'trellis' */
    namespace?: string | undefined;
    /**
     * Max-age (s) for subgraph responses without any Cache-Control header
     * (SUBGRAPH_DEFAULT_MAX_AGE; see subgraph-fetch/cache-hints.ts hintlessDefault). @default 0 (uncacheable)
     */
    subgraphDefaultMaxAge?: number;
  };
  /** Per-client rate limits by cost (rate-limit.ts); budgets in Redis when `responseCache.redisUrl` is set. */
  rateLimit: RateLimitConfig;
  /**
   * Operation usage reporting (usage/recorder.ts) into `gateway_usage` at USAGE_DATABASE_URL;
   * absent when that is unset or USAGE_REPORTING=off. @default off (no database)
   */
  usage?: UsageConfig | undefined;
  /** Manifest of trusted documents: when set, only its operations run. */
  trustedDocuments?: string | undefined;
  /** Largest request body accepted. @default 1 MB */
  maxBodyBytes: number;
  /** Header/request/keep-alive timeouts and the connection cap (HTTP_*). @default DEFAULT_CONNECTION_LIMITS */
  connections?: ConnectionLimits;
  /** Depth and size bounds of variables and extensions (MAX_VARIABLES_*). @default DEFAULT_INPUT_BOUNDS */
  inputBounds?: InputBounds;
  /**
   * Browser origins allowed to call the gateway (CORS_ORIGINS, CORS_CREDENTIALS). Absent: no
   * CORS headers at all. @default loopback origins outside production, none in production
   */
  cors?: CorsConfig;
  /**
   * Which `apollographql-client-name` values get their own `client` metric label
   * (CLIENT_NAMES allowlist, or the first MAX_CLIENT_NAMES seen). @default the first 20 seen
   */
  clients?: ClientLabelOptions;
  auth: {
    /** HS256 secret for client tokens (development default; unset in production unless given). */
    secret?: string | undefined;
    /** JWKS URL for client tokens (production). */
    jwksUrl?: string | undefined;
    issuer: string;
    audience: string;
    /** Refuse anonymous requests. @default false */
    required: boolean;
    /** Signs the identity forwarded to subgraphs; without it none is forwarded. */
    subgraphSecret?: string | undefined;
  };
}

const limit = (fallback: number) => z.coerce.number({ message: 'must be a number' }).int().min(1).default(fallback);

/** A string variable read by `parse`, whose thrown message becomes the variable's error. */
const parsedWith = <T>(parse: (text: string) => T) =>
  z.string().transform((text, context) => {
    try {
      return parse(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

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
      ADMIN_PORT: common.ADMIN_PORT.optional(),
      LOG_LEVEL: common.LOG_LEVEL,
      SUPERGRAPH_PATH: z.string().default('supergraph.graphql'),
      AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
      AUTH_JWKS_URL: z.url({ message: 'must be a URL' }).optional(),
      AUTH_ISSUER: z.string().default(DEV_AUTH.issuer),
      AUTH_AUDIENCE: z.string().default(DEV_AUTH.audience),
      AUTH_REQUIRED: z.enum(['true', 'false']).default('false'),
      SUBGRAPH_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
      TRUSTED_DOCUMENTS: z.string().optional(),
      USAGE_DATABASE_URL: common.DATABASE_URL.optional(),
      USAGE_REPORTING: z.enum(['on', 'off']).default('on'),
      USAGE_FLUSH_INTERVAL_MS: limit(DEFAULT_USAGE.flushIntervalMs),
      USAGE_BUCKET_MINUTES: limit(DEFAULT_USAGE.bucketMs / 60_000),
      USAGE_RETENTION_DAYS: limit(DEFAULT_USAGE.retentionDays),
      USAGE_MAX_ENTRIES: limit(DEFAULT_USAGE.maxEntries),
      GATEWAY_FEATURES: z.enum(['on', 'off']).default('on'),
      RESPONSE_CACHE: z.enum(['on', 'off']).default('on'),
      REDIS_URL: common.REDIS_URL.optional(),
      CACHE_NAMESPACE: common.CACHE_NAMESPACE,
      CACHE_TIMEOUT_MS: limit(50),
      SUBGRAPH_DEFAULT_MAX_AGE: z.coerce.number({ message: 'must be a number' }).int().min(0).default(0),
      SUBGRAPH_TIMEOUT_MS: limit(5000),
      SUBGRAPH_DEDUP: z.enum(['on', 'off']).default('on'),
      OPERATION_DEDUP: z.enum(['on', 'off']).default('on'),
      SUBGRAPH_MAX_CONCURRENCY: limit(DEFAULT_CONCURRENCY.maxInFlight),
      SUBGRAPH_QUEUE_TIMEOUT_MS: limit(DEFAULT_CONCURRENCY.queueMs),
      CORS_ORIGINS: parsedWith(parseCorsOrigins).optional(),
      CORS_CREDENTIALS: z.enum(['true', 'false']).default('false'),
      CLIENT_NAMES: parsedWith(parseClientNames).optional(),
      MAX_CLIENT_NAMES: z.coerce.number({ message: 'must be a number' }).int().min(0).max(1000).default(20),
      MAX_BODY_BYTES: limit(1_000_000),
      ...httpFields,
      MAX_COST: limit(DEFAULT_LIMITS.maxCost),
      MAX_DEPTH: limit(DEFAULT_LIMITS.maxDepth),
      MAX_ALIASES: limit(DEFAULT_LIMITS.maxAliases),
      MAX_DIRECTIVES: limit(DEFAULT_LIMITS.maxDirectives),
      MAX_TOKENS: limit(DEFAULT_LIMITS.maxTokens),
      MAX_DOCUMENT_BYTES: limit(DEFAULT_LIMITS.maxDocumentBytes),
      RATE_LIMIT: z.enum(['on', 'off']).default('on'),
      RATE_LIMIT_POINTS: limit(DEFAULT_RATE_LIMIT.points),
      RATE_LIMIT_ANON_POINTS: limit(DEFAULT_RATE_LIMIT.anonPoints),
      RATE_LIMIT_MUTATION_POINTS: limit(DEFAULT_RATE_LIMIT.mutationPoints),
      RATE_LIMIT_WINDOW_S: limit(DEFAULT_RATE_LIMIT.windowS),
      RATE_LIMIT_BY_CLIENT: z.enum(['on', 'off']).default('off'),
      TRUSTED_PROXIES: z
        .string()
        .default('')
        .transform((value) =>
          value
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean),
        )
        .refine(
          (list) => {
            try {
              compileTrustedProxies(list);
              return true;
            } catch {
              return false;
            }
          },
          {
            message: 'must be a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal or uniquelocal',
          },
        ),
    },
    {
      ...source,
      ...(flags.port !== undefined ? { PORT: flags.port } : {}),
      ...(flags.host !== undefined ? { HOST: flags.host } : {}),
      ...(flags.supergraph !== undefined ? { SUPERGRAPH_PATH: flags.supergraph } : {}),
    },
  );
  const subgraphUrls: Record<string, string> = {};
  const perSubgraph: Record<string, number> = {};
  for (const [key, value] of Object.entries(source)) {
    const match = /^SUBGRAPH_URL_([A-Z0-9_]+)$/.exec(key);
    if (match?.[1] && value) subgraphUrls[match[1].toLowerCase()] = value;
    const concurrency = /^SUBGRAPH_MAX_CONCURRENCY_([A-Z0-9_]+)$/.exec(key);
    if (concurrency?.[1] && value) {
      perSubgraph[concurrency[1].toLowerCase()] = loadEnv({ [key]: limit(1) }, { [key]: value })[key] as number;
    }
  }
  // Development and tests get the shared dev secrets; production only what it is given.
  const dev = env.NODE_ENV !== 'production';
  if (env.CORS_CREDENTIALS === 'true' && env.CORS_ORIGINS?.includes('*'))
    exitWith('Invalid environment: CORS_CREDENTIALS=true needs explicit CORS_ORIGINS, not "*"');
  // Client names are the client's word: only a fixed list may split an address's budget.
  if (env.RATE_LIMIT_BY_CLIENT === 'on' && !env.CLIENT_NAMES?.length)
    exitWith(
      'Invalid environment: RATE_LIMIT_BY_CLIENT=on needs CLIENT_NAMES (the client names that get budgets of their own)',
    );
  return {
    features: env.GATEWAY_FEATURES === 'on',
    responseCache: {
      enabled: env.RESPONSE_CACHE === 'on',
      redisUrl: env.REDIS_URL,
      timeoutMs: env.CACHE_TIMEOUT_MS,
      namespace: env.CACHE_NAMESPACE,
      subgraphDefaultMaxAge: env.SUBGRAPH_DEFAULT_MAX_AGE,
    },
    subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    subgraphDedup: env.SUBGRAPH_DEDUP === 'on',
    operationDedup: env.OPERATION_DEDUP === 'on',
    subgraphConcurrency: {
      maxInFlight: env.SUBGRAPH_MAX_CONCURRENCY,
      queueMs: env.SUBGRAPH_QUEUE_TIMEOUT_MS,
      perSubgraph,
    },
    rateLimit: {
      enabled: env.RATE_LIMIT === 'on',
      points: env.RATE_LIMIT_POINTS,
      anonPoints: env.RATE_LIMIT_ANON_POINTS,
      mutationPoints: env.RATE_LIMIT_MUTATION_POINTS,
      windowS: env.RATE_LIMIT_WINDOW_S,
      trustedProxies: env.TRUSTED_PROXIES,
      maxKeys: DEFAULT_RATE_LIMIT.maxKeys,
      byClient: env.RATE_LIMIT_BY_CLIENT === 'on' ? (env.CLIENT_NAMES ?? []) : [],
    },
    trustedDocuments: env.TRUSTED_DOCUMENTS,
    usage:
      env.USAGE_DATABASE_URL && env.USAGE_REPORTING === 'on'
        ? {
            ...DEFAULT_USAGE,
            databaseUrl: env.USAGE_DATABASE_URL,
            flushIntervalMs: env.USAGE_FLUSH_INTERVAL_MS,
            bucketMs: env.USAGE_BUCKET_MINUTES * 60_000,
            retentionDays: env.USAGE_RETENTION_DAYS,
            maxEntries: env.USAGE_MAX_ENTRIES,
          }
        : undefined,
    maxBodyBytes: env.MAX_BODY_BYTES,
    ...httpLimits(env),
    cors: {
      origins: env.CORS_ORIGINS ?? (dev ? [...DEV_CORS_ORIGINS] : []),
      credentials: env.CORS_CREDENTIALS === 'true',
    },
    clients: { allowlist: env.CLIENT_NAMES, max: env.MAX_CLIENT_NAMES },
    limits: {
      maxCost: env.MAX_COST,
      maxDepth: env.MAX_DEPTH,
      maxAliases: env.MAX_ALIASES,
      maxDirectives: env.MAX_DIRECTIVES,
      maxTokens: env.MAX_TOKENS,
      maxDocumentBytes: env.MAX_DOCUMENT_BYTES,
    },
    auth: {
      secret: env.AUTH_JWT_SECRET ?? (dev ? DEV_AUTH.clientSecret : undefined),
      jwksUrl: env.AUTH_JWKS_URL,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      required: env.AUTH_REQUIRED === 'true',
      subgraphSecret: env.SUBGRAPH_SIGNING_SECRET ?? (dev ? DEV_AUTH.subgraphSecret : undefined),
    },
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    adminPort: env.ADMIN_PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    supergraphPath: env.SUPERGRAPH_PATH,
    subgraphUrls,
  };
}
