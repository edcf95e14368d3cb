/**
 * Service configuration from environment variables, validated with zod: every service declares its
 * variables as a zod object and reads them with {@link parseEnv}, so a wrong value is reported the same
 * way everywhere ("invalid configuration: PORT: ...; LOG_LEVEL: ...").
 */
import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's schema; the message lists every problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** pino's level names, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A TCP port, 0–65535 (0: any free port). */
export const portVar = () => z.coerce.number().int().min(0).max(65535);

/** A positive integer (counts, sizes in bytes, durations in ms). */
export const positiveIntVar = () => z.coerce.number().int().positive();

/**
 * The variables every HTTP service reads, to spread into its own schema:
 * `PORT` (default `defaultPort`), `HOST` (default 0.0.0.0), `LOG_LEVEL` (default info),
 * `SHUTDOWN_TIMEOUT_MS` (how long SIGTERM waits for in-flight requests, default 10 000 ms) and
 * `KEEP_ALIVE_TIMEOUT_MS` (idle keep-alive connections are closed after it, default 65 000 ms; a proxy in
 * front must close idle connections sooner, see lifecycle/server.ts).
 */
export function serviceEnvShape(defaultPort: number) {
  return {
    PORT: portVar().default(defaultPort),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    SHUTDOWN_TIMEOUT_MS: positiveIntVar().default(10_000),
    KEEP_ALIVE_TIMEOUT_MS: positiveIntVar().default(65_000),
  };
}

/** The settings every HTTP service has, from {@link serviceEnvShape}'s variables. */
export interface ServiceConfig {
  /** TCP port to listen on (0: any free port). */
  port: number;
  /** Address to listen on. */
  host: string;
  /** pino level. */
  logLevel: (typeof LOG_LEVELS)[number];
  /** How long SIGTERM waits for in-flight requests (ms). */
  shutdownTimeoutMs: number;
  /** Idle keep-alive connections are closed after this (ms); the mesh's idle timeout must be lower. */
  keepAliveTimeoutMs: number;
}

/** The {@link ServiceConfig} of variables parsed with {@link serviceEnvShape}. */
export function serviceConfig(env: {
  PORT: number;
  HOST: string;
  LOG_LEVEL: (typeof LOG_LEVELS)[number];
  SHUTDOWN_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
}): ServiceConfig {
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
  };
}

/**
 * Parses `env` with `schema`. Empty variables count as unset (so `PORT=` takes the default).
 * @returns the parsed values.
 * @throws ConfigError naming every invalid variable, e.g.
 *   `invalid configuration: PORT: Too big: expected number to be <=65535`.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
