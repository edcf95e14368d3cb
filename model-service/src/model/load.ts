/**
 * Start-up model loading: resolve the configured version spec, fetch the bundle (GitHub releases into the
 * cache, or the local releases folder), verify checksums and lib-ml compatibility, load, warm up.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  BundleError,
  initBackend,
  loadBundle,
  predict,
  verifyBundle,
  type ModelBundle,
} from '@restaurant-sentiment/lib-ml';
import {
  GitHubRegistry,
  GitHubReleaseClient,
  LocalRegistry,
  parseTag,
  resolve,
  resolveVersion,
  VersionNotFoundError,
  type Registry,
} from '@restaurant-sentiment/lib-version';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/** A model ready to serve. */
export interface ServingModel {
  bundle: ModelBundle;
  /** The model version (manifest.version). */
  version: string;
  /** Folder the bundle was loaded from. */
  dir: string;
  /** "github", "local" or "cache" (GitHub unreachable, cached copy used). */
  origin: 'github' | 'local' | 'cache';
  /** Wall time of the whole load, ms. */
  loadMs: number;
}

/** Thrown when no usable model could be found; the message says what was tried. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

/** Versions present in the cache folder (`model-v<version>/`). */
async function cachedVersions(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  return names.flatMap((n) => {
    try {
      const tag = parseTag(n);
      return tag.component === 'model' ? [tag.version] : [];
    } catch {
      return [];
    }
  });
}

/** Cached bundle of `version` when its checksums are valid; an invalid copy is deleted. */
async function validCachedDir(cacheDir: string, version: string, log: Logger): Promise<string | null> {
  const dir = path.join(cacheDir, `model-v${version}`);
  try {
    await verifyBundle(dir);
    return dir;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!(error instanceof Error && /ENOENT/.test(error.message)) && code !== 'ENOENT') {
      log.warn({ dir, err: (error as Error).message }, 'cached model is invalid; removing it');
    }
    await rm(dir, { recursive: true, force: true });
    return null;
  }
}

/** The newest cached version satisfying the spec whose files verify, or null. */
async function newestValidCached(
  config: Config,
  log: Logger,
): Promise<{ version: string; dir: string } | null> {
  let candidates = await cachedVersions(config.cacheDir);
  while (candidates.length) {
    let version: string;
    try {
      version = resolve(config.modelVersion, candidates, { includePrerelease: config.includePrerelease });
    } catch {
      return null;
    }
    const dir = await validCachedDir(config.cacheDir, version, log);
    if (dir) return { version, dir };
    candidates = candidates.filter((v) => v !== version);
  }
  return null;
}

/** The registry configured by MODEL_SOURCE. */
export function createRegistry(config: Config): Registry {
  if (config.modelSource === 'local') return new LocalRegistry(config.registryDir);
  const client = new GitHubReleaseClient({
    repository: config.githubRepository!,
    token: config.githubToken,
    baseUrl: config.githubApiUrl,
    retries: 2,
    retryBaseDelayMs: 500,
    maxRateLimitWaitMs: 60_000,
  });
  return new GitHubRegistry(client);
}

/** Finds the bundle folder to load: local registry, or GitHub download into the cache (with fallback). */
async function locate(
  config: Config,
  registry: Registry,
  log: Logger,
): Promise<{ version: string; dir: string; origin: ServingModel['origin'] }> {
  const options = { includePrerelease: config.includePrerelease };
  if (registry instanceof LocalRegistry) {
    try {
      const version = await resolveVersion(registry, config.modelVersion, options);
      return { version, dir: registry.pathOf(version), origin: 'local' };
    } catch (error) {
      throw new ModelUnavailableError(
        `no model to serve: MODEL_VERSION=${config.modelVersion} from ${registry.location}: ${(error as Error).message}. Train and publish one with \`npm run pipeline\`, or set MODEL_REGISTRY_DIR / MODEL_SOURCE`,
      );
    }
  }
  let version: string;
  try {
    version = await resolveVersion(registry, config.modelVersion, options);
  } catch (error) {
    if (error instanceof VersionNotFoundError) {
      throw new ModelUnavailableError(`no model to serve: ${error.message}`);
    }
    const cached = await newestValidCached(config, log);
    if (!cached) {
      throw new ModelUnavailableError(
        `no model to serve: ${registry.location} failed (${(error as Error).message}) and the cache ${config.cacheDir} has no valid version satisfying MODEL_VERSION=${config.modelVersion}`,
      );
    }
    log.warn(
      { err: (error as Error).message, modelVersion: cached.version, dir: cached.dir },
      'GitHub unreachable: serving the newest cached model that satisfies MODEL_VERSION',
    );
    return { ...cached, origin: 'cache' };
  }
  const cachedDir = await validCachedDir(config.cacheDir, version, log);
  if (cachedDir) return { version, dir: cachedDir, origin: 'cache' };
  const dir = path.join(config.cacheDir, `model-v${version}`);
  await registry.fetchVersion(version, dir);
  log.info({ version, dir }, 'downloaded model release');
  return { version, dir, origin: 'github' };
}

/**
 * Resolves, fetches, verifies, loads and warms up the model.
 * @throws ModelUnavailableError (nothing usable; says what was tried), BundleError (checksum or lib-ml
 *   mismatch), AssetChecksumError (download corrupt; nothing cached).
 */
export async function loadServingModel(
  config: Config,
  log: Logger,
  registry = createRegistry(config),
): Promise<ServingModel> {
  const started = performance.now();
  const backend = await initBackend();
  const { version, dir, origin } = await locate(config, registry, log);
  let bundle: ModelBundle;
  try {
    bundle = await loadBundle(dir);
  } catch (error) {
    if (error instanceof BundleError) error.message = `model ${version} in ${dir}: ${error.message}`;
    throw error;
  }
  if (bundle.manifest.version !== version) {
    throw new ModelUnavailableError(
      `model ${version} in ${dir}: its manifest says version ${bundle.manifest.version}; refusing to serve a mislabelled release`,
    );
  }
  predict(bundle, ['warm-up review: the food was good']);
  const loadMs = Math.round(performance.now() - started);
  log.info(
    { modelVersion: version, origin, dir, backend, loadMs, libMl: bundle.manifest.libMl },
    'model loaded',
  );
  return { bundle, version: bundle.manifest.version, dir, origin, loadMs };
}
