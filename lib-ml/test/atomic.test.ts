import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../src/io/atomic.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'lib-ml-atomic-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir` (relative paths, sorted) → its content. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath ?? entry.path, entry.name);
    out[path.relative(dir, full)] = await readFile(full, 'utf8');
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('writeFileAtomic', () => {
  it('creates missing parent folders and writes strings as UTF-8', async () => {
    const file = path.join(root, 'a', 'b', 'c', 'out.txt');
    await writeFileAtomic(file, 'héllo ✓');
    expect(await readFile(file, 'utf8')).toBe('héllo ✓');
    expect(await readdir(path.join(root, 'a', 'b', 'c'))).toEqual(['out.txt']);
  });

  it('writes bytes and replaces existing content completely', async () => {
    const file = path.join(root, 'data.bin');
    await writeFileAtomic(file, 'a much longer original content');
    await writeFileAtomic(file, new Uint8Array([0, 1, 2, 255]));
    expect(Array.from(await readFile(file))).toEqual([0, 1, 2, 255]);
    expect(await readdir(root)).toEqual(['data.bin']);
  });
});

describe('replaceDirAtomic', () => {
  it('creates the folder when it does not exist', async () => {
    const dir = path.join(root, 'fresh');
    await replaceDirAtomic(dir, async (temp) => {
      expect(path.dirname(temp)).toBe(root);
      expect(path.basename(temp).startsWith('.fresh.tmp-')).toBe(true);
      await writeFile(path.join(temp, 'x.txt'), 'x');
    });
    expect(await tree(dir)).toEqual({ 'x.txt': 'x' });
    expect(await readdir(root)).toEqual(['fresh']);
  });

  it("replaces an existing folder's content fully (old files are gone)", async () => {
    const dir = path.join(root, 'bundle');
    await mkdir(path.join(dir, 'nested'), { recursive: true });
    await writeFile(path.join(dir, 'old.txt'), 'old');
    await writeFile(path.join(dir, 'shared.txt'), 'old shared');
    await writeFile(path.join(dir, 'nested', 'deep.txt'), 'deep');

    await replaceDirAtomic(dir, async (temp) => {
      expect(await readdir(temp)).toEqual([]);
      await writeFile(path.join(temp, 'new.txt'), 'new');
      await writeFile(path.join(temp, 'shared.txt'), 'new shared');
    });

    expect(await tree(dir)).toEqual({ 'new.txt': 'new', 'shared.txt': 'new shared' });
    expect(await readdir(root)).toEqual(['bundle']);
  });

  it('leaves the original folder untouched and no temp folder behind when build throws', async () => {
    const dir = path.join(root, 'bundle');
    await mkdir(dir);
    await writeFile(path.join(dir, 'keep.txt'), 'keep');
    const before = await stat(dir);
    let tempSeen = '';

    await expect(
      replaceDirAtomic(dir, async (temp) => {
        tempSeen = temp;
        await writeFile(path.join(temp, 'partial.txt'), 'partial');
        throw new Error('build failed');
      }),
    ).rejects.toThrow('build failed');

    expect(tempSeen).not.toBe('');
    expect(await tree(dir)).toEqual({ 'keep.txt': 'keep' });
    expect((await stat(dir)).ino).toBe(before.ino);
    const names = await readdir(root);
    expect(names).toEqual(['bundle']);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('accepts a relative path and can run twice in a row', async () => {
    const dir = path.join(root, 'twice');
    for (const content of ['one', 'two']) {
      await replaceDirAtomic(path.relative(process.cwd(), dir), async (temp) => {
        await writeFile(path.join(temp, `${content}.txt`), content);
      });
    }
    expect(await tree(dir)).toEqual({ 'two.txt': 'two' });
    expect(await readdir(root)).toEqual(['twice']);
  });
});
