/**
 * Stage 4, publish: assembles the model bundle in dist/model/ (model files + manifest.json with sha256
 * checksums, lib-ml version and range, params, dataset and metrics), then copies it into the local release
 * folder `<publish.registry_dir>/model-v<version>/`. Releases are immutable: publishing a version that
 * exists with the same model files is a no-op, with different ones an error.
 *
 * The gate: publish refuses, before writing anything, a model whose evaluation failed
 * `evaluate.min_accuracy` (as recorded by evaluate in reports/evaluated.json) or whose test accuracy is
 * below the current `evaluate.min_accuracy`, and a model significantly worse than the released champion
 * by McNemar's test, or compared with another champion than evaluate.champion.version gives now (see
 * evaluate/gate.ts requireNotWorseThanChampion). Every route to a release (`npm run pipeline`, the stage
 * alone, `dvc repro`, `npm start`, the release workflow) runs this stage.
 */
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  MODEL_FILES,
  MANIFEST_FILE,
  replaceDirAtomic,
  verifyBundle,
  writeManifest,
  type BundleManifest,
} from '@restaurant-sentiment/lib-ml';
import {
  GitHubReleaseClient,
  MissingConfigError,
  publishRelease,
  type PublishReleaseResult,
} from '@restaurant-sentiment/lib-version';
import semver from 'semver';
import { PipelineError } from '../errors.js';
import { fileSha256, readRecord, requireSame } from '../lineage.js';
import { readDriftReference } from '../evaluate/reference.js';
import { PATHS } from '../paths.js';
import { releaseNotes } from '../release/notes.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';
import { gateFailedMessage, requireNotWorseThanChampion, type EvaluatedRecord } from '../evaluate/gate.js';
import type { PrepareStats } from './prepare.js';

/** Outcome of {@link publish}. */
export interface PublishResult {
  manifest: BundleManifest;
  /** Absolute path of the release folder. */
  releaseDir: string;
  /** False when the same release already existed (no-op). */
  created: boolean;
  /** The GitHub side, when publish.github (or PUBLISH_GITHUB) is on. */
  github: PublishReleaseResult | null;
}

/**
 * The version to publish: `PUBLISH_VERSION` from the environment, else publish.version.
 * @throws PipelineError when it is not a semver version.
 */
export function publishVersion(ctx: StageContext, env: NodeJS.ProcessEnv = process.env): string {
  const version = env.PUBLISH_VERSION || ctx.params.publish.version; // empty = not set
  if (!semver.valid(version)) {
    throw new PipelineError(
      `publish version "${version}" is not a semver version (PUBLISH_VERSION or publish.version)`,
    );
  }
  return semver.clean(version)!;
}

/**
 * The local releases folder (absolute): `PUBLISH_REGISTRY_DIR` from the environment (`npm start` sets it
 * from MODEL_REGISTRY_DIR), else publish.registry_dir; relative paths are relative to the repository root.
 */
export function publishRegistryDir(ctx: StageContext, env: NodeJS.ProcessEnv = process.env): string {
  return resolvePath(ctx, env.PUBLISH_REGISTRY_DIR || ctx.params.publish.registry_dir); // empty = not set
}

/**
 * Whether to create the GitHub release: `PUBLISH_GITHUB` ("true"/"false") from the environment, else
 * publish.github.
 * @throws PipelineError for another PUBLISH_GITHUB value.
 */
export function publishToGitHub(ctx: StageContext, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.PUBLISH_GITHUB;
  if (value === undefined || value === '') return ctx.params.publish.github;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new PipelineError(`PUBLISH_GITHUB must be "true" or "false" (got "${value}")`);
}

/**
 * The GitHub release client configured by the environment: GITHUB_REPOSITORY (owner/name) and
 * GITHUB_TOKEN are required, GITHUB_API_URL is optional.
 * @throws MissingConfigError naming the variable to set.
 */
export function gitHubClientFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubReleaseClient {
  if (!env.GITHUB_REPOSITORY) {
    throw new MissingConfigError(
      'publishing to GitHub needs GITHUB_REPOSITORY (owner/name): set it, or set publish.github: false',
    );
  }
  if (!env.GITHUB_TOKEN) {
    throw new MissingConfigError(
      'publishing to GitHub needs a token: set GITHUB_TOKEN, or set publish.github: false',
    );
  }
  return new GitHubReleaseClient({
    repository: env.GITHUB_REPOSITORY,
    token: env.GITHUB_TOKEN,
    baseUrl: env.GITHUB_API_URL || undefined,
  });
}

/**
 * Checks that the model in models/ passed evaluate's gate, as recorded in reports/evaluated.json, and
 * that its test accuracy meets the current evaluate.min_accuracy.
 * @param evaluated the parsed reports/evaluated.json (any shape: older pipelines wrote no gate).
 * @param metricsSha256 sha256 of the current metrics.json.
 * @throws PipelineError naming the accuracy and the threshold when the gate failed, or saying to run
 *   evaluate when the record has no gate outcome or describes another metrics.json.
 */
export function requireGatePassed(
  ctx: Pick<StageContext, 'params'>,
  evaluated: Partial<EvaluatedRecord>,
  metricsSha256: string,
): void {
  const gate = evaluated.gate;
  if (
    !gate ||
    typeof gate.passed !== 'boolean' ||
    typeof gate.accuracy !== 'number' ||
    typeof evaluated.metrics_sha256 !== 'string'
  ) {
    throw new PipelineError(
      `${PATHS.evaluated} records no gate outcome (written by an older pipeline); run the evaluate stage before publish`,
    );
  }
  requireSame(
    PATHS.metrics,
    evaluated.metrics_sha256,
    metricsSha256,
    'run the evaluate stage before publish',
  );
  if (!gate.passed) throw new PipelineError(`publish refused: ${gateFailedMessage(gate)}`);
  const min = ctx.params.evaluate.min_accuracy;
  if (gate.accuracy < min) {
    throw new PipelineError(
      `publish refused: ${gateFailedMessage({ accuracy: gate.accuracy, min_accuracy: min })} (evaluate.min_accuracy was ${gate.min_accuracy} when evaluate ran)`,
    );
  }
  requireBehaviouralGatePassed(ctx, evaluated);
}

/**
 * Checks the behavioural gate evaluate recorded (evaluate.behavioural.min_pass_rate): it passed, and
 * evaluate ran with the current min_pass_rate (the per-capability pass rates are evaluate's to judge).
 * Records of older pipelines have no behavioural outcome; the gate was off for them.
 * @throws PipelineError naming the failing capabilities and their pass rates, or saying to rerun
 *   evaluate when min_pass_rate changed since it ran.
 */
export function requireBehaviouralGatePassed(
  ctx: Pick<StageContext, 'params'>,
  evaluated: Partial<EvaluatedRecord>,
): void {
  const current = ctx.params.evaluate.behavioural.min_pass_rate;
  const recorded = evaluated.behavioural;
  if (!recorded) {
    if (current === null) return;
    throw new PipelineError(
      `publish refused: ${PATHS.evaluated} records no behavioural gate but evaluate.behavioural.min_pass_rate is ${current}; run the evaluate stage before publish`,
    );
  }
  if (!recorded.passed) {
    const failing = recorded.failing.map((f) => `${f.capability} ${f.pass_rate}`).join(', ');
    throw new PipelineError(
      `publish refused: behavioural gate failed: pass rate below evaluate.behavioural.min_pass_rate ${recorded.min_pass_rate}: ${failing}`,
    );
  }
  if (recorded.min_pass_rate !== current) {
    throw new PipelineError(
      `publish refused: evaluate.behavioural.min_pass_rate is ${current} but was ${recorded.min_pass_rate} when evaluate ran; run the evaluate stage before publish`,
    );
  }
}

/**
 * The manifest's `created` time, ISO 8601 in UTC (e.g. "2026-12-01T00:00:00.000Z"): `SOURCE_DATE_EPOCH` from
 * the environment when set (whole seconds since 1970-01-01T00:00:00Z, the reproducible-builds.org
 * convention, https://reproducible-builds.org/specs/source-date-epoch/), so that two runs on the same
 * inputs write byte-identical bundles; else the current time. An empty value counts as not set.
 * @throws PipelineError when SOURCE_DATE_EPOCH is not a whole non-negative number of seconds that a
 *   JavaScript Date can hold (the spec asks builds to fail on a malformed value).
 */
export function manifestCreated(
  env: NodeJS.ProcessEnv = process.env,
  now: () => Date = () => new Date(),
): string {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return now().toISOString();
  const date = /^[0-9]+$/.test(value) ? new Date(Number(value) * 1000) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new PipelineError(
      `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01T00:00:00Z (got "${value}")`,
    );
  }
  return date.toISOString();
}

/** Error codes of a write refused because the target is not writable. */
const READ_ONLY_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Turns a file-system error raised while writing into `folder` into a one-line PipelineError: a
 * read-only folder (EACCES, EPERM) or file system (EROFS) is called so, other I/O errors are named by
 * code and system call. Anything that is not a Node.js system error is returned unchanged.
 * @param action what failed, e.g. "cannot publish model-v1.0.0".
 * @param folder the folder written to, described, e.g. "the releases folder /srv/releases".
 * @param hint how to fix a read-only folder.
 */
export function describeWriteError(error: unknown, action: string, folder: string, hint: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return error;
  const detail = `${e.code} on ${e.syscall}`;
  if (e.code === 'EROFS') {
    return new PipelineError(`${action}: ${folder} is on a read-only file system (${detail}); ${hint}`);
  }
  if (READ_ONLY_CODES.has(e.code)) {
    return new PipelineError(`${action}: ${folder} is read-only for this user (${detail}); ${hint}`);
  }
  return new PipelineError(`${action}: writing to ${folder} failed (${detail})`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Runs the publish stage.
 * @param options.client the GitHub client to use (default: from the environment, see gitHubClientFromEnv).
 * @throws PipelineError, before anything is written, when the model failed the gate (see
 *   {@link requireGatePassed}), is significantly worse than the champion or was compared with another one
 *   (see requireNotWorseThanChampion), or inputs are missing or stale; PipelineError when the release
 *   exists with other model files or is corrupt, or a folder is read-only (see {@link describeWriteError});
 *   MissingConfigError / ReleaseClientError from the GitHub side.
 */
export async function publish(
  ctx: StageContext,
  options: { client?: GitHubReleaseClient } = {},
): Promise<PublishResult> {
  const version = publishVersion(ctx);
  const created = manifestCreated();
  const evaluated = await readRecord<Partial<EvaluatedRecord>>(
    resolvePath(ctx, PATHS.evaluated),
    'run the evaluate stage first',
  );
  const weightsSha256 = await fileSha256(
    path.join(resolvePath(ctx, PATHS.models), 'weights.bin'),
    'run the train stage first',
  );
  requireSame(
    'models/weights.bin',
    evaluated.weights_sha256 ?? '',
    weightsSha256,
    'metrics.json describes another model: run the evaluate stage before publish',
  );
  const metricsSha256 = await fileSha256(resolvePath(ctx, PATHS.metrics), 'run the evaluate stage first');
  requireGatePassed(ctx, evaluated, metricsSha256);
  await requireNotWorseThanChampion(ctx, evaluated, { version, weightsSha256 });
  const reference = await readDriftReference(ctx, weightsSha256);
  const stats = await readRecord<PrepareStats>(resolvePath(ctx, PATHS.stats), 'run the prepare stage first');
  const metrics = await readRecord<Record<string, unknown>>(
    resolvePath(ctx, PATHS.metrics),
    'run the evaluate stage first',
  );
  const distDir = resolvePath(ctx, PATHS.dist);
  const action = `cannot publish model-v${version}`;
  let manifest!: BundleManifest;
  await replaceDirAtomic(distDir, async (dir) => {
    for (const file of MODEL_FILES) {
      try {
        await copyFile(path.join(resolvePath(ctx, PATHS.models), file), path.join(dir, file));
      } catch {
        throw new PipelineError(`${path.join(PATHS.models, file)}: missing; run the train stage first`);
      }
    }
    manifest = await writeManifest(dir, {
      name: ctx.params.publish.name,
      version,
      created,
      params: ctx.params as unknown as Record<string, unknown>,
      dataset: {
        source: stats.source,
        sha256: stats.sha256,
        rows: { train: stats.rows.train, test: stats.rows.test, fresh: stats.rows.fresh },
      },
      metrics,
      reference,
    });
  }).catch((error: unknown) => {
    throw describeWriteError(error, action, `the bundle folder ${distDir}`, 'make it writable');
  });

  const tag = `model-v${version}`;
  const releaseDir = path.join(publishRegistryDir(ctx), tag);
  // Check the GitHub configuration before writing anything to the local registry.
  const client = publishToGitHub(ctx) ? (options.client ?? gitHubClientFromEnv()) : null;
  const registryDir = path.dirname(releaseDir);
  const local = await publishLocal(ctx, { tag, releaseDir, distDir, manifest }).catch((error: unknown) => {
    throw describeWriteError(
      error,
      action,
      `the releases folder ${registryDir}`,
      'make it writable, or point publish.registry_dir (or PUBLISH_REGISTRY_DIR) at a writable folder',
    );
  });
  let github: PublishReleaseResult | null = null;
  if (client) {
    github = await publishRelease(client, {
      component: 'model',
      version,
      dir: local.releaseDir,
      notes: releaseNotes(local.manifest),
    });
    ctx.log.info({ tag, github, repository: `${client.owner}/${client.repo}` }, 'GitHub release');
  }
  return { ...local, github };
}

/** Copies dist/model into the local registry folder, or checks that an existing one has the same files. */
async function publishLocal(
  ctx: StageContext,
  {
    tag,
    releaseDir,
    distDir,
    manifest,
  }: { tag: string; releaseDir: string; distDir: string; manifest: BundleManifest },
): Promise<Omit<PublishResult, 'github'>> {
  if (await exists(releaseDir)) {
    let existing: BundleManifest;
    try {
      existing = await verifyBundle(releaseDir);
    } catch (error) {
      throw new PipelineError(
        `release ${tag} in ${releaseDir} exists but is not valid: ${(error as Error).message}`,
      );
    }
    const same = MODEL_FILES.every((f) => existing.files[f]?.sha256 === manifest.files[f].sha256);
    if (!same) {
      throw new PipelineError(
        `release ${tag} already exists in ${releaseDir} with different model files; releases are immutable: bump publish.version or set PUBLISH_VERSION`,
      );
    }
    ctx.log.info({ tag, releaseDir }, 'release exists with the same model files; nothing to do');
    return { manifest: existing, releaseDir, created: false };
  }
  await replaceDirAtomic(releaseDir, async (dir) => {
    for (const file of [...MODEL_FILES, MANIFEST_FILE])
      await copyFile(path.join(distDir, file), path.join(dir, file));
  });
  ctx.log.info({ tag, releaseDir, files: manifest.files }, 'published');
  return { manifest, releaseDir, created: true };
}

if (isMain(import.meta.url)) await runStageCli('publish', (ctx) => publish(ctx).then(() => {}));
