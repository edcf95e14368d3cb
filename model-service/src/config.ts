/**
 * model-service configuration from environment variables (documented in model-service/README.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  parseEnv,
  positiveIntVar,
  serviceConfig,
  serviceEnvShape,
  type ServiceConfig,
} from '@restaurant-sentiment/lib-service';
import semver from 'semver';
import { z } from 'zod';

/** The repository root (defaults for the release, cache and feedback folders live under it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const positiveInt = positiveIntVar();

const schema = z.object({
  ...serviceEnvShape(5001),
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
  FEEDBACK_WRITER_ID: z.string().max(100).optional(),
  MAX_BATCH_SIZE: positiveInt.default(64),
  INCLUDE_PRERELEASE: z.enum(['true', 'false']).default('false'),
});

/** Parsed configuration. */
export interface Config extends ServiceConfig {
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
  /** Folder of the feedback files (`feedback-<writerId>.jsonl` and its rotations). */
  feedbackDir: string;
  /** Rotate the live feedback file when a write would make it larger than this (bytes). */
  feedbackMaxBytes: number;
  /** FEEDBACK_WRITER_ID: names this process's feedback file (the pod name; default `<hostname>-<pid>`). */
  feedbackWriterId?: string;
  /** Most texts scored in one tensor operation. */
  maxBatchSize: number;
  /** Let "latest" and ranges match pre-release model versions. */
  includePrerelease: boolean;
}

/**
 * Reads the configuration.
 * @throws ConfigError (lib-service) listing every invalid variable, e.g. "PORT: expected number"; and
 *   when MODEL_SOURCE is github without GITHUB_REPOSITORY.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(schema, env);
  if (e.MODEL_SOURCE === 'github' && !e.GITHUB_REPOSITORY) {
    throw new ConfigError('invalid configuration: MODEL_SOURCE=github needs GITHUB_REPOSITORY (owner/name)');
  }
  return {
    ...serviceConfig(e),
    modelVersion: e.MODEL_VERSION,
    modelSource: e.MODEL_SOURCE,
    githubRepository: e.GITHUB_REPOSITORY,
    githubToken: e.GITHUB_TOKEN,
    githubApiUrl: e.GITHUB_API_URL,
    registryDir: path.resolve(e.MODEL_REGISTRY_DIR),
    cacheDir: path.resolve(e.MODEL_CACHE_DIR),
    feedbackDir: path.resolve(e.FEEDBACK_DIR),
    feedbackMaxBytes: e.FEEDBACK_MAX_BYTES,
    feedbackWriterId: e.FEEDBACK_WRITER_ID,
    maxBatchSize: e.MAX_BATCH_SIZE,
    includePrerelease: e.INCLUDE_PRERELEASE === 'true',
  };
}
