/**
 * Crash-safe writes: a reader sees either the old content or the new one, never a half-written file or
 * folder, even if the process is killed mid-write.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
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

/** True when a process with this pid exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Repairs what a killed {@link replaceDirAtomic} can leave beside `dir`: if `dir` is missing but an
 * `.<name>.old-*` folder exists (killed between the two renames), that folder is renamed back; leftover
 * `.old-*` folders and `.tmp-*` folders of processes that no longer run are removed.
 */
async function recoverInterrupted(parent: string, base: string, dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  const olds = entries.filter((e) => e.startsWith(`.${base}.old-`));
  const dirExists = entries.includes(base);
  for (const [i, name] of olds.entries()) {
    if (!dirExists && i === 0) await rename(path.join(parent, name), dir);
    else await rm(path.join(parent, name), { recursive: true, force: true });
  }
  for (const name of entries.filter((e) => e.startsWith(`.${base}.tmp-`))) {
    const pid = Number(name.slice(`.${base}.tmp-`.length).split('-')[0]);
    if (!isAlive(pid)) await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Builds a folder under a temporary name beside `dir`, then swaps it into place with two renames
 * (dir → .old, temp → dir), so readers see the old folder or the complete new one. A kill between the two
 * renames leaves `dir` missing for a moment; the next call repairs that by restoring the old folder. The
 * temp folder is removed if `build` or the swap throws.
 *
 * @param dir the final folder path.
 * @param build fills the temp folder it is given.
 */
export async function replaceDirAtomic(
  dir: string,
  build: (tempDir: string) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  await mkdir(parent, { recursive: true });
  await recoverInterrupted(parent, base, path.resolve(dir));
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${base}.tmp-${suffix}`);
  const old = path.join(parent, `.${base}.old-${suffix}`);
  await mkdir(temp, { recursive: true });
  let moved = false;
  try {
    await build(temp);
    try {
      await rename(dir, old);
      moved = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rename(temp, dir);
  } catch (error) {
    if (moved) await rename(old, dir).catch(() => {});
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}
