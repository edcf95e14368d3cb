import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import semver from 'semver';
import { bumpPrerelease } from '../scripts/release/bump-prerelease.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const DATE = new Date('2026-11-30T10:15:00Z');

async function fixture(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rs-bump-'));
  await mkdir(path.join(root, 'app'));
  await writeFile(
    path.join(root, 'app/package.json'),
    JSON.stringify({ name: 'app', version: '1.4.2' }, null, 2) + '\n',
  );
  await cp(path.join(ROOT, 'params.yaml'), path.join(root, 'params.yaml'));
  return root;
}

describe('bump-prerelease', () => {
  it("bumps a component's package.json", async () => {
    const root = await fixture();
    expect(await bumpPrerelease(root, 'app', DATE)).toEqual({
      file: 'app/package.json',
      previous: '1.4.2',
      version: '1.4.3-pre.20261130.1015',
    });
    expect(JSON.parse(await readFile(path.join(root, 'app/package.json'), 'utf8'))).toEqual({
      name: 'app',
      version: '1.4.3-pre.20261130.1015',
    });
  });

  it('bumps the model version in params.yaml and keeps the comments', async () => {
    const root = await fixture();
    const before = await readFile(path.join(root, 'params.yaml'), 'utf8');
    expect(await bumpPrerelease(root, 'model', DATE)).toEqual({
      file: 'params.yaml',
      previous: '1.0.0',
      version: '1.0.1-pre.20261130.1015',
    });
    const after = await readFile(path.join(root, 'params.yaml'), 'utf8');
    expect(after).toBe(
      before.replace(
        'version: 1.0.0 # the PUBLISH_VERSION environment variable overrides it',
        'version: 1.0.1-pre.20261130.1015 # the PUBLISH_VERSION environment variable overrides it',
      ),
    );
  });

  it('moves past the released version when main still holds its pre-release', async () => {
    const root = await fixture();
    await writeFile(
      path.join(root, 'app/package.json'),
      JSON.stringify({ version: '1.0.1-pre.20261129.800' }),
    );
    expect(await bumpPrerelease(root, 'app', DATE, '1.0.1')).toEqual({
      file: 'app/package.json',
      previous: '1.0.1-pre.20261129.800',
      version: '1.0.2-pre.20261130.1015',
    });
    // An older released version does not pull main back; the same minute gives a counter.
    expect((await bumpPrerelease(root, 'app', DATE, '0.9.0')).version).toBe('1.0.2-pre.20261130.1015.1');
    await expect(bumpPrerelease(root, 'app', DATE, 'v-one')).rejects.toThrow(
      '--released: "v-one" is not a semver version',
    );
  });

  it('bumps twice in the same minute, and past a release candidate, always to a higher version', async () => {
    const root = await fixture();
    const versions = ['1.4.2'];
    for (let i = 0; i < 3; i++) versions.push((await bumpPrerelease(root, 'app', DATE)).version);
    expect(versions).toEqual([
      '1.4.2',
      '1.4.3-pre.20261130.1015',
      '1.4.3-pre.20261130.1015.1',
      '1.4.3-pre.20261130.1015.2',
    ]);
    for (let i = 1; i < versions.length; i++) expect(semver.gt(versions[i], versions[i - 1])).toBe(true);
    expect(JSON.parse(await readFile(path.join(root, 'app/package.json'), 'utf8')).version).toBe(
      '1.4.3-pre.20261130.1015.2',
    );

    // Released 1.5.0-rc.1: main moves past it, not to 1.5.0-pre.… (which sorts below -rc.1).
    const rc = await bumpPrerelease(root, 'app', DATE, '1.5.0-rc.1');
    expect(rc.version).toBe('1.5.0-rc.1.pre.20261130.1015');
    expect(semver.gt(rc.version, '1.5.0-rc.1')).toBe(true);
  });

  it('runs as a CLI and rejects unknown components', async () => {
    const root = await fixture();
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', tsx, path.join(ROOT, 'scripts/release/bump-prerelease.ts'), ...args],
          { cwd: root },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
    expect(await run('app', '--released', '1.4.2', '--date', '2026-11-30T09:05:00Z')).toEqual({
      code: 0,
      stdout: '1.4.3-pre.20261130.905\n',
      stderr: 'app/package.json: 1.4.2 → 1.4.3-pre.20261130.905\n',
    });
    const bad = await run('web');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'bump-prerelease: unknown component "web": expected one of lib-ml, lib-version, model, model-service, app\n',
    );
  });
});
