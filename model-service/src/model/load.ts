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

/** Finds the bundle folder to load from GitHub: a valid cached copy, a download, or (GitHub down) the cache. */
async function locate(
  config: Config,
  registry: Registry,
  log: Logger,
): Promise<{ version: string; dir: string; origin: 'github' | 'cache' }> {
  const options = { includePrerelease: config.includePrerelease };
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
 * Loads and checks the bundle in `dir`: checksums and lib-ml range (loadBundle), and that its manifest
 * names `version`.
 * @throws BundleError (message prefixed with the version and folder), ModelUnavailableError (mislabelled).
 */
async function loadChecked(version: string, dir: string): Promise<ModelBundle> {
  let bundle: ModelBundle;
  try {
    bundle = await loadBundle(dir);
  } catch (error) {
    if (error instanceof BundleError) error.message = `model ${version} in ${dir}: ${error.message}`;
    throw error;
  }
  if (bundle.manifest.version !== version) {
    bundle.model.dispose();
    throw new ModelUnavailableError(
      `model ${version} in ${dir}: its manifest says version ${bundle.manifest.version}; refusing to serve a mislabelled release`,
    );
  }
  return bundle;
}

/**
 * The newest local release satisfying MODEL_VERSION that loads: stray `model-v*` entries (not semver, no
 * or bad manifest) are skipped with a warning; a release that fails its checksums, its lib-ml range or
 * its version label is skipped with a warning and the next newest satisfying one is tried (as the GitHub
 * path falls back to the newest valid cached release).
 * @throws ModelUnavailableError saying what was found and why each candidate was refused.
 */
async function loadLocal(
  config: Config,
  registry: LocalRegistry,
  log: Logger,
): Promise<{ version: string; dir: string; bundle: ModelBundle }> {
  const { versions, skipped } = await registry.scan();
  for (const entry of skipped) {
    log.warn(
      { folder: path.join(registry.location, entry.name), reason: entry.reason },
      'skipping a release folder that is not a usable release',
    );
  }
  const refused: string[] = [];
  let candidates = versions;
  for (;;) {
    let version: string;
    try {
      version = resolve(config.modelVersion, candidates, { includePrerelease: config.includePrerelease });
    } catch (error) {
      const notes = [...refused, ...skipped.map((e) => `${e.name} skipped: ${e.reason}`)];
      throw new ModelUnavailableError(
        `no model to serve: MODEL_VERSION=${config.modelVersion} from ${registry.location}: ${(error as Error).message}${notes.length ? ` (${notes.join('; ')})` : ''}. Train and publish one with \`npm run pipeline\`, or set MODEL_REGISTRY_DIR / MODEL_SOURCE`,
      );
    }
    const dir = registry.pathOf(version);
    try {
      return { version, dir, bundle: await loadChecked(version, dir) };
    } catch (error) {
      const message = (error as Error).message;
      refused.push(message);
      candidates = candidates.filter((v) => v !== version);
      log.warn(
        { modelVersion: version, dir, err: message },
        'local release is invalid; trying the next newest that satisfies MODEL_VERSION',
      );
    }
  }
}

/**
 * Resolves, fetches, verifies, loads and warms up the model.
 * @throws ModelUnavailableError (nothing usable; says what was tried and why each local release was
 *   refused), BundleError (checksum or lib-ml mismatch of a GitHub/cached bundle), AssetChecksumError
 *   (download corrupt; nothing cached).
 */
export async function loadServingModel(
  config: Config,
  log: Logger,
  registry = createRegistry(config),
): Promise<ServingModel> {
  const started = performance.now();
  const backend = await initBackend();
  let located: { version: string; dir: string; origin: ServingModel['origin']; bundle: ModelBundle };
  if (registry instanceof LocalRegistry) {
    located = { ...(await loadLocal(config, registry, log)), origin: 'local' };
  } else {
    const { version, dir, origin } = await locate(config, registry, log);
    located = { version, dir, origin, bundle: await loadChecked(version, dir) };
  }
  const { version, dir, origin, bundle } = located;
  predict(bundle, ['warm-up review: the food was good']);
  const loadMs = Math.round(performance.now() - started);
  log.info(
    { modelVersion: version, origin, dir, backend, loadMs, libMl: bundle.manifest.libMl },
    'model loaded',
  );
  return { bundle, version: bundle.manifest.version, dir, origin, loadMs };
}
