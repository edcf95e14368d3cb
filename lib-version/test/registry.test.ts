import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  AssetChecksumError,
  GitHubRegistry,
  GitHubReleaseClient,
  LocalRegistry,
  publishRelease,
  ReleaseClientError,
  resolveVersion,
  VersionNotFoundError,
} from '../src/index.js';
import { FakeGitHubServer } from './support/fake-github-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Writes a small bundle folder: two files and a manifest listing them. */
async function writeBundle(dir: string, content = 'weights'): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'model.json': Buffer.from('{"format":"layers-model"}'),
    'weights.bin': Buffer.from(content),
  };
  const manifest = Buffer.from(
    JSON.stringify({
      version: '1.0.0',
      files: Object.fromEntries(
        Object.entries(files).map(([n, d]) => [n, { sha256: sha256(d), bytes: d.length }]),
      ),
    }),
  );
  await mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries({ ...files, 'manifest.json': manifest })) {
    await writeFile(path.join(dir, name), data);
  }
  return { ...files, 'manifest.json': manifest };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rs-registry-'));
});

describe('LocalRegistry', () => {
  it('lists model-v* folders, resolves a range and fetches a verified copy', async () => {
    const registry = new LocalRegistry(path.join(tmp, 'releases'));
    expect(await registry.listVersions()).toEqual([]);
    await writeBundle(path.join(tmp, 'releases/model-v1.0.0'));
    await writeBundle(path.join(tmp, 'releases/model-v1.1.0'));
    await writeBundle(path.join(tmp, 'releases/model-v2.0.0'));
    await mkdir(path.join(tmp, 'releases/app-v1.0.0'));
    await mkdir(path.join(tmp, 'releases/model-vjunk'));
    expect((await registry.listVersions()).sort()).toEqual(['1.0.0', '1.1.0', '2.0.0']);
    expect(await resolveVersion(registry, '^1.0')).toBe('1.1.0');
    await expect(resolveVersion(registry, '^3')).rejects.toThrow(
      `${path.join(tmp, 'releases')}: no version satisfies "^3" (available: 1.0.0, 1.1.0, 2.0.0)`,
    );
    const dest = path.join(tmp, 'cache/model-v1.1.0');
    await registry.fetchVersion('1.1.0', dest);
    expect((await readdir(dest)).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
  });

  it('skips stray model-v* entries and says why: not semver, not a folder, no or bad manifest', async () => {
    const releases = path.join(tmp, 'releases');
    const registry = new LocalRegistry(releases);
    expect(await registry.scan()).toEqual({ versions: [], skipped: [] }); // no folder: an empty registry
    await writeBundle(path.join(releases, 'model-v1.0.0'));
    await writeBundle(path.join(releases, 'model-v1.1.0-rc.1'));
    await mkdir(path.join(releases, 'model-v2.0.0')); // empty
    await mkdir(path.join(releases, 'model-v2.1.0'));
    await writeFile(path.join(releases, 'model-v2.1.0/manifest.json'), 'not json');
    await mkdir(path.join(releases, 'model-v2.2.0'));
    await writeFile(path.join(releases, 'model-v2.2.0/manifest.json'), '{"files": {"a": {"size": 1}}}');
    await mkdir(path.join(releases, 'model-v2.3.0'));
    await writeFile(
      path.join(releases, 'model-v2.3.0/manifest.json'),
      '{"files": {"../escape": {"sha256": "00"}}}',
    );
    await writeFile(path.join(releases, 'model-v3.0.0'), 'a file');
    await mkdir(path.join(releases, 'model-v4'));
    await mkdir(path.join(releases, 'model-vlatest'));
    await mkdir(path.join(releases, 'app-v9.0.0')); // another component: not ours, not reported
    await mkdir(path.join(releases, '.model-v5.0.0.fetch-1a2b3c4d')); // a fetch in progress
    expect(await registry.scan()).toEqual({
      versions: ['1.0.0', '1.1.0-rc.1'],
      skipped: [
        { name: 'model-v2.0.0', reason: 'no manifest.json' },
        { name: 'model-v2.1.0', reason: 'manifest.json is not valid JSON' },
        { name: 'model-v2.2.0', reason: 'manifest.json has no valid "files" list' },
        { name: 'model-v2.3.0', reason: 'manifest.json lists an invalid file name "../escape"' },
        { name: 'model-v3.0.0', reason: 'not a folder' },
        { name: 'model-v4', reason: 'not a release name (model-v<semver>)' },
        { name: 'model-vlatest', reason: 'not a release name (model-v<semver>)' },
      ],
    });
    expect(await registry.listVersions()).toEqual(['1.0.0', '1.1.0-rc.1']);
    expect(await resolveVersion(registry, 'latest')).toBe('1.0.0');
  });

  it('refuses a corrupted file and leaves nothing behind', async () => {
    const registry = new LocalRegistry(path.join(tmp, 'releases'));
    await writeBundle(path.join(tmp, 'releases/model-v1.0.0'));
    await writeFile(path.join(tmp, 'releases/model-v1.0.0/weights.bin'), 'tampered');
    await mkdir(path.join(tmp, 'cache'));
    await expect(registry.fetchVersion('1.0.0', path.join(tmp, 'cache/model-v1.0.0'))).rejects.toThrow(
      AssetChecksumError,
    );
    expect(await readdir(path.join(tmp, 'cache'))).toEqual([]);
    await expect(registry.fetchVersion('9.0.0', path.join(tmp, 'cache/x'))).rejects.toThrow(
      VersionNotFoundError,
    );
  });
});

describe('GitHub releases', () => {
  let server: FakeGitHubServer;
  let client: GitHubReleaseClient;
  beforeEach(async () => {
    server = await new FakeGitHubServer().start();
    client = new GitHubReleaseClient({
      repository: 'acme/restaurant-sentiment',
      baseUrl: server.baseUrl,
      token: 'test-token',
      retries: 0,
    });
  });
  afterEach(() => server.stop());

  it('publishes a bundle once; republishing the same checksums is a no-op', async () => {
    const files = await writeBundle(path.join(tmp, 'bundle'));
    const first = await publishRelease(client, {
      component: 'model',
      version: '1.2.0',
      dir: path.join(tmp, 'bundle'),
      notes: '## metrics',
    });
    expect(first).toEqual({
      tag: 'model-v1.2.0',
      created: true,
      uploaded: ['model.json', 'weights.bin', 'manifest.json'],
    });
    const release = server.releases[0];
    expect(release.body).toBe('## metrics');
    expect(release.assets.map((a) => [a.name, a.data.equals(files[a.name])])).toEqual([
      ['model.json', true],
      ['weights.bin', true],
      ['manifest.json', true],
    ]);
    const before = server.requests.length;
    const second = await publishRelease(client, {
      component: 'model',
      version: '1.2.0',
      dir: path.join(tmp, 'bundle'),
      notes: '## metrics',
    });
    expect(second).toEqual({ tag: 'model-v1.2.0', created: false, uploaded: [] });
    expect(server.requestLines().slice(before)).toEqual([
      'GET /repos/acme/restaurant-sentiment/releases/tags/model-v1.2.0',
      `GET /repos/acme/restaurant-sentiment/releases/assets/${release.assets[2].id}`,
      `GET /download/${release.assets[2].id}`,
    ]);
    expect((await readdir(path.join(tmp, 'bundle'))).sort()).toEqual([
      'manifest.json',
      'model.json',
      'weights.bin',
    ]);
  });

  it('refuses to publish different checksums under an existing tag', async () => {
    await writeBundle(path.join(tmp, 'a'), 'weights A');
    await writeBundle(path.join(tmp, 'b'), 'weights B');
    await publishRelease(client, {
      component: 'model',
      version: '1.0.0',
      dir: path.join(tmp, 'a'),
      notes: '',
    });
    await expect(
      publishRelease(client, { component: 'model', version: '1.0.0', dir: path.join(tmp, 'b'), notes: '' }),
    ).rejects.toThrow(
      'release model-v1.0.0 already exists with different checksums (weights.bin); releases are immutable: publish a new version',
    );
  });

  it('completes a release whose upload was interrupted', async () => {
    const files = await writeBundle(path.join(tmp, 'bundle'));
    server.addRelease('model-v1.0.0', { 'model.json': files['model.json'] });
    const result = await publishRelease(client, {
      component: 'model',
      version: '1.0.0',
      dir: path.join(tmp, 'bundle'),
      notes: '',
    });
    expect(result).toEqual({
      tag: 'model-v1.0.0',
      created: false,
      uploaded: ['weights.bin', 'manifest.json'],
    });
  });

  it('resolves, fetches and verifies through GitHubRegistry; a bad asset caches nothing', async () => {
    const files = await writeBundle(path.join(tmp, 'bundle'));
    for (const v of ['1.0.0', '1.3.0', '2.0.0']) {
      await publishRelease(client, {
        component: 'model',
        version: v,
        dir: path.join(tmp, 'bundle'),
        notes: '',
      });
    }
    server.addRelease('model-v1.9.0', {}, { draft: true });
    const registry = new GitHubRegistry(client);
    expect(await resolveVersion(registry, '^1.0')).toBe('1.3.0');
    const dest = path.join(tmp, 'cache/model-v1.3.0');
    await registry.fetchVersion('1.3.0', dest);
    expect(await readFile(path.join(dest, 'weights.bin'))).toEqual(files['weights.bin']);

    server.releases.find((r) => r.tag_name === 'model-v2.0.0')!.assets[1].data = Buffer.from('corrupt');
    const error = await registry
      .fetchVersion('2.0.0', path.join(tmp, 'cache/model-v2.0.0'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetChecksumError);
    expect((error as Error).message).toContain('checksum mismatch for asset weights.bin');
    expect(await readdir(path.join(tmp, 'cache'))).toEqual(['model-v1.3.0']);

    await expect(registry.fetchVersion('7.0.0', path.join(tmp, 'cache/x'))).rejects.toThrow(
      `GitHub releases of acme/restaurant-sentiment (${server.baseUrl}): no release model-v7.0.0`,
    );
    server.addRelease('model-v3.0.0', { 'model.json': files['model.json'] });
    await expect(registry.fetchVersion('3.0.0', path.join(tmp, 'cache/y'))).rejects.toThrow(
      ReleaseClientError,
    );
  });
});
