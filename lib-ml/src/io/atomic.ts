/**
 * Crash-safe writes: a reader sees either the old content or the new one, never a half-written file or
 * folder, even if the process is killed mid-write.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/**
 * Writes a file atomically (temp file in the same folder, fsync, rename) via `write-file-atomic`.
 * Creates missing parent folders.
 * @param data file content; strings are written as UTF-8.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomicLib(file, typeof data === 'string' ? data : Buffer.from(data));
}

/**
 * Builds a folder under a temporary name beside `dir`, then swaps it into place with renames, so `dir`
 * is either the old folder or the complete new one. The temp folder is removed if `build` throws.
 *
 * @param dir the final folder path.
 * @param build fills the temp folder it is given.
 */
export async function replaceDirAtomic(dir: string, build: (tempDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${base}.tmp-${suffix}`);
  const old = path.join(parent, `.${base}.old-${suffix}`);
  await mkdir(temp, { recursive: true });
  try {
    await build(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  let moved = false;
  try {
    await rename(dir, old);
    moved = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(temp, dir);
  if (moved) await rm(old, { recursive: true, force: true });
}
