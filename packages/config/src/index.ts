// Environment loading for every service: one zod schema per service, validated once at
// start. A bad value stops the process with a single line naming the variable.
import { z } from 'zod';

export { z };

/** Thrown (and normally turned into an exit) when the environment does not validate. */
export class EnvError extends Error {
  override name = 'EnvError';
}

const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a postgres:// URL with a host');

const redisUrl = z.string().refine((value) => /^rediss?:\/\/[^/]/.test(value), 'must be a redis:// URL');

const port = z.coerce
  .number({ message: 'must be a number' })
  .int()
  .min(0, 'must be a port number (0-65535)')
  .max(65535, 'must be a port number (0-65535)');

/** Fields every service shares. Compose them into a service's own schema. */
export const common = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port,
  HOST: z.string().default('127.0.0.1'),
  /**
   * Port of the internal surface (`/metrics`, the gateway's `/admin/*`), off the public one;
   * unset: served on PORT (`pnpm dev`, tests). Deployments set it (ADMIN_PORT in compose and
   * Kubernetes). Use `.optional()`.
   */
  ADMIN_PORT: port,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl,
  REDIS_URL: redisUrl,
  /** Prefix of the response cache's Redis keys and invalidation channel (replicas of one graph share it). */
  CACHE_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -')
    .default('trellis'),
};

/** Treat empty strings as unset, so `FOO= cmd` behaves like an absent variable. */
function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/**
 * Parses `source` (default `process.env`) against `shape`. Throws EnvError whose message
 * is one line: `Invalid environment: PORT must be a port number (0-65535) (got "x")`.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const values = withoutEmpty(source);
  const result = z.object(shape).safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  const got = values[name];
  const shown = got === undefined ? 'unset' : `got ${JSON.stringify(got.length > 60 ? `${got.slice(0, 60)}…` : got)}`;
  const reason = issue?.code === 'invalid_type' && got === undefined ? 'is required' : issue?.message;
  throw new EnvError(`Invalid environment: ${name} ${reason} (${shown})`);
}

/** Like parseEnv, but prints the one-line reason and exits the process on failure. */
export function loadEnv<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  try {
    return parseEnv(shape, source);
  } catch (error) {
    if (error instanceof EnvError) exitWith(error.message);
    throw error;
  }
}

/** Prints one line to stderr and exits with status 1: for start-up failures. */
export function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
