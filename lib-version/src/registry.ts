/**
 * Model registries: where released model bundles live. Consumers (model-service) resolve a version spec
 * and fetch a bundle the same way from GitHub releases or from a local folder of `model-v<version>/`
 * folders (what the pipeline's publish stage writes).
 *
 * A bundle's `manifest.json` lists every other file with its sha256 (`files: {name: {sha256, bytes}}`);
 * fetching checks each file against it, so a fetched folder is complete and intact or not there at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { AssetChecksumError, ReleaseClientError, VersionNotFoundError } from './errors.js';
import type { GitHubReleaseClient } from './github.js';
import { resolve, type ResolveOptions } from './resolve.js';
import { formatTag, parseTag, tagPrefix, type Component } from './tags.js';

/** Name of the manifest file in every bundle. */
export const MANIFEST_FILE = 'manifest.json';

/** The part of a bundle manifest the registries rely on. */
export interface ManifestFiles {
  files: Record<string, { sha256: string; bytes?: number }>;
}

/** A place released versions of one component can be listed and fetched from. */
export interface Registry {
  /** Human-readable location, for logs and errors. */
  readonly location: string;
  /** Versions available (semver, without "v"), any order. */
  listVersions(): Promise<string[]>;
  /**
   * Writes the bundle of `version` into `destDir`, which must not exist; it appears complete or not at all.
   * @throws VersionNotFoundError, ReleaseClientError, AssetChecksumError.
   */
  fetchVersion(version: string, destDir: string): Promise<void>;
}

/**
 * Resolves a spec against a registry.
 * @returns the chosen version.
 * @throws VersionNotFoundError (message includes the registry location).
 */
export async function resolveVersion(
  registry: Registry,
  spec: string,
  options?: ResolveOptions,
): Promise<string> {
  const versions = await registry.listVersions();
  try {
    return resolve(spec, versions, options);
  } catch (error) {
    if (error instanceof VersionNotFoundError) {
      throw new VersionNotFoundError(`${registry.location}: ${error.message}`);
    }
    throw error;
  }
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses manifest bytes into its file list; throws naming the source when it is not a manifest. */
export function parseManifestFiles(data: Uint8Array, source: string): ManifestFiles {
  let manifest: Partial<ManifestFiles>;
  try {
    manifest = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new ReleaseClientError(`${source}: ${MANIFEST_FILE} is not valid JSON`);
  }
  const files = manifest?.files;
  if (
    !files ||
    typeof files !== 'object' ||
    !Object.values(files).every((f) => typeof f?.sha256 === 'string')
  ) {
    throw new ReleaseClientError(`${source}: ${MANIFEST_FILE} has no valid "files" list`);
  }
  for (const name of Object.keys(files)) {
    if (name !== path.basename(name) || name.startsWith('.') || name === MANIFEST_FILE) {
      throw new ReleaseClientError(`${source}: ${MANIFEST_FILE} lists an invalid file name "${name}"`);
    }
  }
  return { files };
}

/** Fills a temp folder beside `destDir`, then renames it into place; removes it on failure. */
async function intoPlace(destDir: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  const temp = path.join(
    path.dirname(destDir),
    `.${path.basename(destDir)}.fetch-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(temp, { recursive: true });
  try {
    await fill(temp);
    await rename(temp, destDir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** A `<component>-v*` entry of a local registry that is not a usable release, and why. */
export interface SkippedRelease {
  /** The entry's name, e.g. "model-v1.2.0". */
  name: string;
  /** Why it was skipped, e.g. "no manifest.json". */
  reason: string;
}

/** What {@link LocalRegistry.scan} found. */
export interface LocalScan {
  /** Versions whose folder has a readable manifest listing files (semver, without "v"), any order. */
  versions: string[];
  /** `<component>-v*` entries skipped (not semver, not a folder, no or bad manifest), sorted by name. */
  skipped: SkippedRelease[];
}

/**
 * A folder of `<component>-v<version>/` bundle folders (default component "model"). Entries that are not
 * releases (a stray or empty `model-v*` folder, a name that is not semver, a missing or unreadable
 * manifest) are skipped, never fatal: {@link scan} says which and why. Checksums are verified when a
 * version is fetched, not when listing.
 */
export class LocalRegistry implements Registry {
  readonly location: string;
  constructor(
    readonly dir: string,
    readonly component: Component = 'model',
  ) {
    this.location = path.resolve(dir);
  }

  /** Versions available (see {@link scan}). */
  async listVersions(): Promise<string[]> {
    return (await this.scan()).versions;
  }

  /**
   * Lists the releases, with the `<component>-v*` entries that are not usable and why. A missing folder
   * is an empty registry.
   */
  async scan(): Promise<LocalScan> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return { versions: [], skipped: [] };
    }
    const versions: string[] = [];
    const skipped: SkippedRelease[] = [];
    for (const name of names.filter((n) => n.startsWith(tagPrefix(this.component))).sort()) {
      let version: string;
      try {
        version = parseTag(name).version;
      } catch {
        skipped.push({ name, reason: `not a release name (${tagPrefix(this.component)}<semver>)` });
        continue;
      }
      const reason = await this.problemOf(path.join(this.dir, name));
      if (reason) skipped.push({ name, reason });
      else versions.push(version);
    }
    return { versions, skipped };
  }

  /** Why a release folder is unusable (not a folder, no or bad manifest), or null when it looks usable. */
  private async problemOf(folder: string): Promise<string | null> {
    const isDir = await stat(folder).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) return 'not a folder';
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(folder, MANIFEST_FILE));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? `no ${MANIFEST_FILE}` : `${MANIFEST_FILE} is unreadable (${code})`;
    }
    try {
      parseManifestFiles(bytes, folder);
    } catch (error) {
      return (error as Error).message.slice(folder.length + 2); // without the "<folder>: " prefix
    }
    return null;
  }

  /** Folder of a version's bundle in this registry. */
  pathOf(version: string): string {
    return path.join(this.dir, formatTag(this.component, version));
  }

  async fetchVersion(version: string, destDir: string): Promise<void> {
    const source = this.pathOf(version);
    const exists = await stat(source).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists)
      throw new VersionNotFoundError(`${this.location}: no ${formatTag(this.component, version)} folder`);
    const manifestBytes = await readFile(path.join(source, MANIFEST_FILE)).catch(() => {
      throw new ReleaseClientError(`${source}: missing ${MANIFEST_FILE}`);
    });
    const { files } = parseManifestFiles(manifestBytes, source);
    await intoPlace(destDir, async (temp) => {
      for (const [name, { sha256 }] of Object.entries(files)) {
        const data = await readFile(path.join(source, name)).catch(() => {
          throw new ReleaseClientError(`${source}: missing ${name}, listed in ${MANIFEST_FILE}`);
        });
        const actual = sha256Hex(data);
        if (actual !== sha256) throw new AssetChecksumError(name, sha256, actual);
        await copyFile(path.join(source, name), path.join(temp, name));
      }
      await copyFile(path.join(source, MANIFEST_FILE), path.join(temp, MANIFEST_FILE));
    });
  }
}

/** GitHub releases of one component (tags `<component>-v<version>`; drafts are ignored). */
export class GitHubRegistry implements Registry {
  readonly location: string;
  constructor(
    readonly client: GitHubReleaseClient,
    readonly component: Component = 'model',
  ) {
    this.location = `GitHub releases of ${client.owner}/${client.repo} (${client.baseUrl})`;
  }

  async listVersions(): Promise<string[]> {
    const releases = await this.client.listReleases(this.component);
    return releases
      .filter((r) => !r.draft)
      .flatMap((r) => {
        try {
          return [parseTag(r.tag).version];
        } catch {
          return [];
        }
      });
  }

  async fetchVersion(version: string, destDir: string): Promise<void> {
    const tag = formatTag(this.component, version);
    const release = await this.client.getRelease(tag);
    if (!release) throw new VersionNotFoundError(`${this.location}: no release ${tag}`);
    const manifestAsset = release.assets.find((a) => a.name === MANIFEST_FILE);
    if (!manifestAsset) throw new ReleaseClientError(`release ${tag} has no ${MANIFEST_FILE} asset`);
    await intoPlace(destDir, async (temp) => {
      await this.client.downloadAsset(manifestAsset, path.join(temp, MANIFEST_FILE));
      const { files } = parseManifestFiles(await readFile(path.join(temp, MANIFEST_FILE)), `release ${tag}`);
      for (const [name, { sha256 }] of Object.entries(files)) {
        const asset = release.assets.find((a) => a.name === name);
        if (!asset)
          throw new ReleaseClientError(`release ${tag} has no asset ${name}, listed in ${MANIFEST_FILE}`);
        await this.client.downloadAsset(asset, path.join(temp, name), sha256);
      }
    });
  }
}

/** Result of {@link publishRelease}. */
export interface PublishReleaseResult {
  tag: string;
  /** True when the release was created now; false when it already existed. */
  created: boolean;
  /** Asset names uploaded by this call (empty for a no-op). */
  uploaded: string[];
}

/**
 * Publishes a bundle folder as GitHub release `<component>-v<version>` with every file as an asset
 * (manifest.json last, so a release with a manifest is complete). Idempotent: if the release exists and
 * its manifest lists the same checksums, it only uploads missing assets (usually none); different
 * checksums → refused.
 *
 * @param dir bundle folder with manifest.json and the files it lists.
 * @param notes release notes (Markdown).
 * @throws ReleaseClientError (conflict or API failure), MissingConfigError (no token).
 */
export async function publishRelease(
  client: GitHubReleaseClient,
  input: { component: Component; version: string; dir: string; notes: string },
): Promise<PublishReleaseResult> {
  const tag = formatTag(input.component, input.version);
  const manifestBytes = await readFile(path.join(input.dir, MANIFEST_FILE));
  const { files } = parseManifestFiles(manifestBytes, input.dir);
  const order = [...Object.keys(files), MANIFEST_FILE];

  let release = await client.getRelease(tag);
  const created = release === null;
  if (release) {
    const remote = release.assets.find((a) => a.name === MANIFEST_FILE);
    if (remote) {
      const temp = path.join(input.dir, `.remote-manifest-${randomBytes(4).toString('hex')}`);
      try {
        await client.downloadAsset(remote, temp);
        const remoteFiles = parseManifestFiles(await readFile(temp), `release ${tag}`).files;
        const differing = Object.keys({ ...files, ...remoteFiles }).filter(
          (name) => files[name]?.sha256 !== remoteFiles[name]?.sha256,
        );
        if (differing.length) {
          throw new ReleaseClientError(
            `release ${tag} already exists with different checksums (${differing.join(', ')}); releases are immutable: publish a new version`,
          );
        }
      } finally {
        await rm(temp, { force: true });
      }
    }
  } else {
    release = await client.createRelease({
      tag,
      name: tag,
      body: input.notes,
      prerelease: semver.prerelease(input.version) !== null,
    });
  }
  const uploaded: string[] = [];
  for (const name of order) {
    if (release.assets.some((a) => a.name === name)) continue;
    const data = await readFile(path.join(input.dir, name));
    await client.uploadAsset(
      release,
      name,
      data,
      name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    );
    uploaded.push(name);
  }
  return { tag, created, uploaded };
}
