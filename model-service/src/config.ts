/**
 * model-service configuration from environment variables (documented in model-service/README.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { z } from 'zod';

/** The repository root (defaults for the release, cache and feedback folders live under it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5001),
  HOST: z.string().default('0.0.0.0'),
  MODEL_VERSION: z
    .string()
    .min(1)
    .refine(
      (v) => v === 'latest' || semver.validRange(v) !== null,
      'must be a version (1.2.3), a semver range (^1.2, ~1.2.3, >=1.0 <2) or latest',
    )
    .default('latest'),
  MODEL_SOURCE: z.enum(['local', 'github']).default('local'),
  GITHUB_REPOSITORY: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')
    .optional(),
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  MODEL_REGISTRY_DIR: z.string().default(path.join(REPO_ROOT, 'releases')),
  MODEL_CACHE_DIR: z.string().default(path.join(REPO_ROOT, '.cache', 'model-service')),
  FEEDBACK_DIR: z.string().default(path.join(REPO_ROOT, 'feedback')),
  FEEDBACK_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BATCH_SIZE: positiveInt.default(64),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  INCLUDE_PRERELEASE: z.enum(['true', 'false']).default('false'),
});

/** Parsed configuration. */
export interface Config {
  port: number;
  host: string;
  /** Exact version, semver range or "latest". */
  modelVersion: string;
  modelSource: 'local' | 'github';
  githubRepository?: string;
  githubToken?: string;
  githubApiUrl: string;
  /** Local releases folder (`model-v<version>/` bundles). */
  registryDir: string;
  /** Where downloaded bundles are cached (`model-v<version>/`). */
  cacheDir: string;
  /** Folder of feedback.jsonl. */
  feedbackDir: string;
  /** Rotate feedback.jsonl when a write would make it larger than this (bytes). */
  feedbackMaxBytes: number;
  logLevel: string;
  /** Most texts scored in one tensor operation. */
  maxBatchSize: number;
  /** How long SIGTERM waits for in-flight requests (ms). */
  shutdownTimeoutMs: number;
  /** Let "latest" and ranges match pre-release model versions. */
  includePrerelease: boolean;
}

/**
 * Reads the configuration.
 * @throws Error listing every invalid variable, e.g. "PORT: expected number"; and when MODEL_SOURCE is
 *   github without GITHUB_REPOSITORY.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.MODEL_SOURCE === 'github' && !e.GITHUB_REPOSITORY) {
    throw new Error('invalid configuration: MODEL_SOURCE=github needs GITHUB_REPOSITORY (owner/name)');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    modelVersion: e.MODEL_VERSION,
    modelSource: e.MODEL_SOURCE,
    githubRepository: e.GITHUB_REPOSITORY,
    githubToken: e.GITHUB_TOKEN,
    githubApiUrl: e.GITHUB_API_URL,
    registryDir: path.resolve(e.MODEL_REGISTRY_DIR),
    cacheDir: path.resolve(e.MODEL_CACHE_DIR),
    feedbackDir: path.resolve(e.FEEDBACK_DIR),
    feedbackMaxBytes: e.FEEDBACK_MAX_BYTES,
    logLevel: e.LOG_LEVEL,
    maxBatchSize: e.MAX_BATCH_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    includePrerelease: e.INCLUDE_PRERELEASE === 'true',
  };
}
