/**
 * Stage 4, publish: assembles the model bundle in dist/model/ (model files + manifest.json with sha256
 * checksums, lib-ml version and range, params, dataset and metrics), then copies it into the local release
 * folder `<publish.registry_dir>/model-v<version>/`. Releases are immutable: publishing a version that
 * exists with the same model files is a no-op, with different ones an error.
 */
import { copyFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  MODEL_FILES,
  MANIFEST_FILE,
  replaceDirAtomic,
  verifyBundle,
  writeManifest,
  type BundleManifest,
} from '@restaurant-sentiment/lib-ml';
import semver from 'semver';
import { PipelineError } from '../errors.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';
import type { PrepareStats } from './prepare.js';

/** Outcome of {@link publish}. */
export interface PublishResult {
  manifest: BundleManifest;
  /** Absolute path of the release folder. */
  releaseDir: string;
  /** False when the same release already existed (no-op). */
  created: boolean;
}

async function readJson<T>(file: string, hint: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    throw new PipelineError(`${file}: cannot read; ${hint}`);
  }
}

/**
 * The version to publish: `PUBLISH_VERSION` from the environment, else publish.version.
 * @throws PipelineError when it is not a semver version.
 */
export function publishVersion(ctx: StageContext, env: NodeJS.ProcessEnv = process.env): string {
  const version = env.PUBLISH_VERSION ?? ctx.params.publish.version;
  if (!semver.valid(version)) {
    throw new PipelineError(
      `publish version "${version}" is not a semver version (PUBLISH_VERSION or publish.version)`,
    );
  }
  return semver.clean(version)!;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Runs the publish stage.
 * @throws PipelineError when inputs are missing, or the release exists with other model files or is corrupt.
 */
export async function publish(ctx: StageContext): Promise<PublishResult> {
  const version = publishVersion(ctx);
  const stats = await readJson<PrepareStats>(resolvePath(ctx, PATHS.stats), 'run the prepare stage first');
  const metrics = await readJson<Record<string, unknown>>(
    resolvePath(ctx, PATHS.metrics),
    'run the evaluate stage first',
  );
  const distDir = resolvePath(ctx, PATHS.dist);
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
      created: new Date().toISOString(),
      params: ctx.params as unknown as Record<string, unknown>,
      dataset: {
        source: stats.source,
        sha256: stats.sha256,
        rows: { train: stats.rows.train, test: stats.rows.test, fresh: stats.rows.fresh },
      },
      metrics,
    });
  });

  const tag = `model-v${version}`;
  const releaseDir = path.join(resolvePath(ctx, ctx.params.publish.registry_dir), tag);
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
