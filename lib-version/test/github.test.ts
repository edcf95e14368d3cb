import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  AssetChecksumError,
  GitHubReleaseClient,
  MissingConfigError,
  ReleaseClientError,
  type RetryEvent,
} from '../src/index.js';
import { FakeGitHubServer } from './support/fake-github-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('GitHubReleaseClient against a local GitHub-speaking server', () => {
  let server: FakeGitHubServer;
  let sleeps: number[];
  let retries: RetryEvent[];
  let clock: number;
  let dir: string;

  /** A client with a fake clock and sleep; null = no token. */
  const client = (token: string | null = 'test-token', extra = {}) =>
    new GitHubReleaseClient({
      repository: 'acme/restaurant-sentiment',
      baseUrl: server.baseUrl,
      token: token ?? undefined,
      retries: 2,
      retryBaseDelayMs: 100,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      onRetry: (e) => retries.push(e),
      ...extra,
    });

  beforeEach(async () => {
    server = await new FakeGitHubServer('acme', 'restaurant-sentiment').start();
    sleeps = [];
    retries = [];
    clock = Date.UTC(2026, 10, 30, 12, 0, 0);
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-github-'));
  });
  afterEach(() => server.stop());

  it('creates a release, uploads assets and reads them back with exact requests', async () => {
    const c = client();
    const release = await c.createRelease({ tag: 'model-v1.0.0', body: 'notes' });
    const weights = Buffer.from([1, 2, 3, 4, 5]);
    const asset = await c.uploadAsset(release, 'weights.bin', weights);
    expect(asset).toMatchObject({ name: 'weights.bin', size: 5 });
    const fetched = await c.getRelease('model-v1.0.0');
    expect(fetched).toMatchObject({ tag: 'model-v1.0.0', body: 'notes', prerelease: false, draft: false });
    expect(fetched!.assets.map((a) => a.name)).toEqual(['weights.bin']);
    const result = await c.downloadAsset(fetched!.assets[0], path.join(dir, 'weights.bin'), sha256(weights));
    expect(result).toEqual({ sha256: sha256(weights), bytes: 5 });
    expect(await readFile(path.join(dir, 'weights.bin'))).toEqual(weights);

    expect(server.requestLines()).toEqual([
      'POST /repos/acme/restaurant-sentiment/releases',
      `POST /uploads/repos/acme/restaurant-sentiment/releases/${release.id}/assets?name=weights.bin&`, // as @octokit/endpoint expands {?name,label}
      'GET /repos/acme/restaurant-sentiment/releases/tags/model-v1.0.0',
      `GET /repos/acme/restaurant-sentiment/releases/assets/${asset.id}`,
      `GET /download/${asset.id}`,
    ]);
    expect(server.requests[0].authorization).toBe('token test-token');
    expect(server.requests[1]).toMatchObject({ contentType: 'application/octet-stream', bodyBytes: 5 });
    expect(server.requests[3].accept).toBe('application/octet-stream');
    expect(retries).toEqual([]);
  });

  it('lists releases of a component across pages', async () => {
    for (let i = 0; i < 120; i++) server.addRelease(`model-v1.0.${i}`);
    server.addRelease('app-v1.0.0');
    const releases = await client(null).listReleases('model');
    expect(releases).toHaveLength(120);
    expect(server.requestLines()).toEqual([
      'GET /repos/acme/restaurant-sentiment/releases?per_page=100',
      'GET /repos/acme/restaurant-sentiment/releases?per_page=100&page=2',
    ]);
    expect(server.requests[0].authorization).toBeUndefined();
  });

  it('returns null for a missing release and names a missing asset', async () => {
    const c = client();
    expect(await c.getRelease('model-v9.9.9')).toBeNull();
    await expect(
      c.downloadAsset({ id: 999, name: 'gone.bin', size: 1, url: '' }, path.join(dir, 'gone.bin')),
    ).rejects.toThrow('download asset gone.bin: not found (404) in acme/restaurant-sentiment');
  });

  it('retries 5xx with exponential backoff, then succeeds', async () => {
    server.addRelease('model-v1.0.0');
    server.injectFault(/releases\/tags/, { status: 502 }, 2);
    expect(await client().getRelease('model-v1.0.0')).not.toBeNull();
    expect(sleeps).toEqual([100, 200]);
    expect(retries.map((r) => r.reason)).toEqual(['HTTP 502', 'HTTP 502']);
    expect(server.requests).toHaveLength(3);
  });

  it('gives a clear error when 5xx persists', async () => {
    server.injectFault(/releases/, { status: 503 }, 5);
    await expect(client().listReleases()).rejects.toThrow(
      'list releases of acme/restaurant-sentiment: HTTP 503: injected 503 (after 3 attempts)',
    );
    expect(sleeps).toEqual([100, 200]);
  });

  it('retries network errors and reports them after the last attempt', async () => {
    const port = new URL(server.baseUrl).port;
    await server.stop();
    const c = new GitHubReleaseClient({
      repository: 'acme/restaurant-sentiment',
      baseUrl: `http://127.0.0.1:${port}`,
      retries: 1,
      retryBaseDelayMs: 10,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const error = await c.listReleases().catch((e: unknown) => e as ReleaseClientError);
    expect(error).toBeInstanceOf(ReleaseClientError);
    expect((error as Error).message).toMatch(
      /^list releases of acme\/restaurant-sentiment: network error: ECONNREFUSED.*\(after 2 attempts\)$/,
    );
    expect(sleeps).toEqual([10]);
    server = await new FakeGitHubServer().start();
  });

  it('waits out a rate limit until its reset time (fake clock)', async () => {
    server.addRelease('model-v1.0.0');
    const reset = Math.floor(clock / 1000) + 30;
    server.injectFault(/releases\/tags/, {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: JSON.stringify({ message: 'API rate limit exceeded' }),
    });
    server.injectFault(/releases\/tags/, { status: 429, headers: { 'retry-after': '7' } });
    expect(await client().getRelease('model-v1.0.0')).not.toBeNull();
    expect(sleeps).toEqual([31_000, 7_000]);
    expect(retries.map((r) => r.reason)).toEqual(['rate limited (403)', 'rate limited (429)']);
  });

  it('refuses to wait longer than allowed for a rate limit', async () => {
    server.injectFault(/releases/, {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(clock / 1000) + 3600) },
    });
    await expect(client('t', { maxRateLimitWaitMs: 60_000 }).listReleases()).rejects.toThrow(
      'list releases of acme/restaurant-sentiment: GitHub rate limit exceeded; it resets in 3601 s, longer than the 60 s allowed',
    );
    expect(sleeps).toEqual([]);
  });

  it('explains 401 and a missing token', async () => {
    await server.stop();
    server = await new FakeGitHubServer('acme', 'restaurant-sentiment', 'right-token').start();
    await expect(client('wrong-token').listReleases()).rejects.toThrow(
      'list releases of acme/restaurant-sentiment: GitHub rejected the credentials (401 Unauthorized): set GITHUB_TOKEN to a valid token',
    );
    await expect(client(null).createRelease({ tag: 'model-v1.0.0', body: '' })).rejects.toThrow(
      MissingConfigError,
    );
    await expect(client(null).createRelease({ tag: 'model-v1.0.0', body: '' })).rejects.toThrow(
      'creating release model-v1.0.0 needs a GitHub token: set GITHUB_TOKEN',
    );
    expect(() => new GitHubReleaseClient({ repository: 'not-a-repo' })).toThrow(
      'GITHUB_REPOSITORY must be "owner/name" (got "not-a-repo")',
    );
  });

  it('deletes the partial file on a checksum mismatch and does not retry', async () => {
    const release = server.addRelease('model-v1.0.0', { 'weights.bin': Buffer.from('real bytes') });
    const dest = path.join(dir, 'weights.bin');
    const error = await client()
      .downloadAsset({ ...release.assets[0], size: 10, url: '' }, dest, 'f'.repeat(64))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetChecksumError);
    expect((error as Error).message).toBe(
      `checksum mismatch for asset weights.bin: expected sha256 ${'f'.repeat(64)}, downloaded ${sha256(Buffer.from('real bytes'))}`,
    );
    expect(await readdir(dir)).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  it('retries an interrupted download and leaves no partial file', async () => {
    const data = Buffer.alloc(200_000, 7);
    const release = server.addRelease('model-v1.0.0', { 'weights.bin': data });
    server.injectFault(/^\/download\//, { status: 200, truncateAfterBytes: 1000 });
    const dest = path.join(dir, 'weights.bin');
    const asset = { ...release.assets[0], size: data.length, url: '' };
    expect(await client().downloadAsset(asset, dest, sha256(data))).toEqual({
      sha256: sha256(data),
      bytes: 200_000,
    });
    expect(sleeps).toEqual([100]);
    expect(await readdir(dir)).toEqual(['weights.bin']);

    server.injectFault(/^\/download\//, { status: 200, truncateAfterBytes: 1000 }, 3);
    await expect(client().downloadAsset(asset, path.join(dir, 'again.bin'), sha256(data))).rejects.toThrow(
      /^download asset weights\.bin: network error: .*\(after 3 attempts\)$/,
    );
    expect(await readdir(dir)).toEqual(['weights.bin']);
  });
});
