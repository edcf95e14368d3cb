/**
 * Start-up against a local GitHub-speaking server: download, verify and cache; start from the cache;
 * checksum mismatch refused; GitHub down → cached fallback; nothing available → a clear failure, and the
 * CLI exits non-zero with the message.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { AssetChecksumError } from '@restaurant-sentiment/lib-version';
import { pino } from 'pino';
import { FakeGitHubServer } from '../../lib-version/test/support/fake-github-server.js';
import { ModelUnavailableError } from '../src/model/load.js';
import { startService, type RunningService } from '../src/service.js';
import { writeTestRelease } from './support/bundle.js';
import { testConfig } from './support/config.js';

const require = createRequire(import.meta.url);
let releaseFiles: Record<string, Buffer>;
let github: FakeGitHubServer | null = null;
let service: RunningService | null = null;

beforeAll(async () => {
  const { root } = await testConfig();
  const dir = await writeTestRelease(path.join(root, 'releases'), '1.1.0');
  releaseFiles = Object.fromEntries(
    await Promise.all((await readdir(dir)).map(async (f) => [f, await readFile(path.join(dir, f))] as const)),
  );
});

afterEach(async () => {
  await service?.stop();
  service = null;
  await github?.stop();
  github = null;
});

async function githubWith(...versions: string[]): Promise<FakeGitHubServer> {
  github = await new FakeGitHubServer('acme', 'restaurant-sentiment').start();
  for (const v of versions) github.addRelease(`model-v${v}`, { ...releaseFiles });
  return github;
}

/** A URL where nothing listens (a port that was free a moment ago). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** Captures warn/error log lines. */
function recordingLog() {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function githubConfig(root?: string) {
  const { config } = await testConfig({
    MODEL_SOURCE: 'github',
    GITHUB_REPOSITORY: 'acme/restaurant-sentiment',
    GITHUB_API_URL: github?.baseUrl ?? (await deadUrl()),
    MODEL_VERSION: '^1.0',
    ...(root ? { MODEL_CACHE_DIR: path.join(root, 'cache') } : {}),
  });
  return config;
}

describe('start-up from GitHub releases', () => {
  it('downloads, verifies and caches the newest matching release, then starts from the cache', async () => {
    await githubWith('1.0.0', '1.1.0', '2.0.0');
    const config = await githubConfig();
    service = await startService(config, { log: pino({ level: 'silent' }) });
    const model = await service.ready;
    expect(model).toMatchObject({ version: '1.1.0', origin: 'github' });
    expect(await readdir(config.cacheDir)).toEqual(['model-v1.1.0']);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    await service.stop();

    const downloads = github!.requests.length;
    service = await startService(config, { log: pino({ level: 'silent' }) });
    expect(await service.ready).toMatchObject({ version: '1.1.0', origin: 'cache' });
    // Only the release list was asked for: no asset was downloaded again.
    expect(github!.requestLines().slice(downloads)).toEqual([
      'GET /repos/acme/restaurant-sentiment/releases?per_page=100',
    ]);
  });

  it('refuses a release whose asset fails its checksum, and caches nothing', async () => {
    const server = await githubWith('1.1.0');
    server.releases[0].assets.find((a) => a.name === 'weights.bin')!.data = Buffer.from('corrupted weights');
    const config = await githubConfig();
    service = await startService(config, { log: pino({ level: 'silent' }) });
    const error = await service.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetChecksumError);
    expect((error as Error).message).toContain('checksum mismatch for asset weights.bin');
    expect(await readdir(config.cacheDir).catch(() => [])).toEqual([]);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
  });

  it('falls back to the newest valid cached version when GitHub is unreachable, with a warning', async () => {
    await githubWith('1.1.0');
    const first = await githubConfig();
    service = await startService(first, { log: pino({ level: 'silent' }) });
    await service.ready;
    await service.stop();
    service = null;
    await github!.stop();
    github = null;

    const { log, lines } = recordingLog();
    const offline = { ...first, githubApiUrl: await deadUrl() };
    service = await startService(offline, { log });
    expect(await service.ready).toMatchObject({ version: '1.1.0', origin: 'cache' });
    expect(lines.map((l) => l.msg)).toContain(
      'GitHub unreachable: serving the newest cached model that satisfies MODEL_VERSION',
    );
  });

  it('fails with a message saying what was tried when nothing is usable', async () => {
    const dead = await deadUrl();
    const config = { ...(await githubConfig()), githubApiUrl: dead };
    service = await startService(config, { log: pino({ level: 'silent' }) });
    const error = await service.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^no model to serve: GitHub releases of acme/restaurant-sentiment \\(${dead.replace(/[/.]/g, '\\$&')}\\) failed \\(.*ECONNREFUSED.*\\) and the cache ${config.cacheDir.replace(/[/.]/g, '\\$&')} has no valid version satisfying MODEL_VERSION=\\^1\\.0$`,
      ),
    );
  });

  it('says so when GitHub has no version matching the spec', async () => {
    await githubWith('2.0.0');
    service = await startService(await githubConfig(), { log: pino({ level: 'silent' }) });
    await expect(service.ready).rejects.toThrow(
      /^no model to serve: GitHub releases of acme\/restaurant-sentiment .*: no version satisfies "\^1\.0" \(available: 2\.0\.0\)$/,
    );
  });
});

describe('start-up from the local releases folder', () => {
  it('skips stray or empty model-v* entries with a warning instead of stopping', async () => {
    const { config } = await testConfig();
    const releases = config.registryDir;
    await writeTestRelease(releases, '1.0.0');
    await mkdir(path.join(releases, 'model-v3.0.0')); // empty (a publish that never finished)
    await mkdir(path.join(releases, 'model-v2.0.0'));
    await writeFile(path.join(releases, 'model-v2.0.0/manifest.json'), '{"files": ');
    await mkdir(path.join(releases, 'model-v2.5.0'));
    await writeFile(path.join(releases, 'model-v2.5.0/manifest.json'), '{}');
    await mkdir(path.join(releases, 'model-vnext'));
    await writeFile(path.join(releases, 'model-v9.0.0'), 'a file, not a folder');
    const { log, lines } = recordingLog();
    service = await startService(config, { log });
    expect(await service.ready).toMatchObject({ version: '1.0.0', origin: 'local' });
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const skipped = lines
      .filter((l) => l.msg === 'skipping a release folder that is not a usable release')
      .map((l) => [l.level, path.basename(String(l.folder)), l.reason]);
    expect(skipped).toEqual([
      [40, 'model-v2.0.0', 'manifest.json is not valid JSON'],
      [40, 'model-v2.5.0', 'manifest.json has no valid "files" list'],
      [40, 'model-v3.0.0', 'no manifest.json'],
      [40, 'model-v9.0.0', 'not a folder'],
      [40, 'model-vnext', 'not a release name (model-v<semver>)'],
    ]);
  });

  it('falls back to the newest valid release satisfying MODEL_VERSION when the newest fails its checksum', async () => {
    const { config } = await testConfig({ MODEL_VERSION: '^1.0' });
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '2.0.0']) await writeTestRelease(config.registryDir, v);
    const corrupt = path.join(config.registryDir, 'model-v1.2.0');
    const weights = await readFile(path.join(corrupt, 'weights.bin'));
    weights[0] ^= 0xff;
    await writeFile(path.join(corrupt, 'weights.bin'), weights);
    const { log, lines } = recordingLog();
    service = await startService(config, { log });
    expect(await service.ready).toMatchObject({
      version: '1.1.0',
      origin: 'local',
      dir: path.join(config.registryDir, 'model-v1.1.0'),
    });
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => [l.msg, l.modelVersion, l.dir])).toEqual([
      ['local release is invalid; trying the next newest that satisfies MODEL_VERSION', '1.2.0', corrupt],
    ]);
    expect(String(warnings[0].err)).toMatch(
      new RegExp(
        `^model 1\\.2\\.0 in ${corrupt.replace(/[/.]/g, '\\$&')}: checksum mismatch for weights\\.bin: `,
      ),
    );
  });

  it('says what it refused when no valid release satisfies MODEL_VERSION', async () => {
    const { config } = await testConfig({ MODEL_VERSION: '1.0.0' });
    const dir = await writeTestRelease(config.registryDir, '1.0.0');
    await writeTestRelease(config.registryDir, '1.1.0');
    await writeFile(path.join(dir, 'vectorizer.json'), '{}');
    await mkdir(path.join(config.registryDir, 'model-v1.5.0'));
    service = await startService(config, { log: pino({ level: 'silent' }) });
    const error = await service.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^no model to serve: MODEL_VERSION=1\\.0\\.0 from ${config.registryDir.replace(/[/.]/g, '\\$&')}: version 1\\.0\\.0 not found \\(available: 1\\.1\\.0\\) \\(model 1\\.0\\.0 in ${dir.replace(/[/.]/g, '\\$&')}: checksum mismatch for vectorizer\\.json: .*; model-v1\\.5\\.0 skipped: no manifest\\.json\\)\\. Train and publish one with \`npm run pipeline\`, or set MODEL_REGISTRY_DIR / MODEL_SOURCE$`,
      ),
    );
  });
});

describe('start-up checks', () => {
  it('refuses a release folder whose manifest names another version', async () => {
    const { config } = await testConfig();
    const dir = await writeTestRelease(config.registryDir, '1.0.0');
    await rename(dir, path.join(config.registryDir, 'model-v2.0.0'));
    service = await startService(config, { log: pino({ level: 'silent' }) });
    await expect(service.ready).rejects.toThrow(
      `model 2.0.0 in ${path.join(config.registryDir, 'model-v2.0.0')}: its manifest says version 1.0.0; refusing to serve a mislabelled release`,
    );
  });

  it('names the release when a file fails its checksum', async () => {
    const { config } = await testConfig();
    const dir = await writeTestRelease(config.registryDir, '1.0.0');
    const weights = await readFile(path.join(dir, 'weights.bin'));
    weights[0] ^= 0xff;
    await writeFile(path.join(dir, 'weights.bin'), weights);
    service = await startService(config, { log: pino({ level: 'silent' }) });
    await expect(service.ready).rejects.toThrow(`model 1.0.0 in ${dir}: checksum mismatch for weights.bin`);
  });

  it('cuts a torn feedback tail at start-up and logs the bytes cut, never the text', async () => {
    const { config } = await testConfig({ FEEDBACK_WRITER_ID: 'pod-a' });
    await writeTestRelease(config.registryDir, '1.0.0');
    const file = path.join(config.feedbackDir, 'feedback-pod-a.jsonl');
    await mkdir(config.feedbackDir, { recursive: true });
    await writeFile(file, '{"text":"kept","label":1,"time":"t"}\n{"text":"private words","lab');
    const { log, lines } = recordingLog();
    service = await startService(config, { log });
    // Cut before the service even listens, not on the first feedback.
    expect(await readFile(file, 'utf8')).toBe('{"text":"kept","label":1,"time":"t"}\n');
    expect(lines.map(({ level, msg, file: f, bytesCut }) => ({ level, msg, file: f, bytesCut }))).toEqual([
      {
        level: 40,
        msg: 'cut a torn last line off the feedback file (a write was interrupted)',
        file,
        bytesCut: 28, // the bytes of {"text":"private words","lab
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('private');
    await service.ready;
  });

  it('creates no feedback file until there is feedback', async () => {
    const { config } = await testConfig({ FEEDBACK_WRITER_ID: 'pod-b' });
    await writeTestRelease(config.registryDir, '1.0.0');
    service = await startService(config, { log: pino({ level: 'silent' }) });
    await service.ready;
    expect(await readdir(config.feedbackDir)).toEqual([]);
    const res = await fetch(`${service.url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Would not go back.', label: 0 }),
    });
    expect(res.status).toBe(201);
    expect(await readdir(config.feedbackDir)).toEqual(['feedback-pod-b.jsonl']);
  });

  it('fails at start-up when FEEDBACK_DIR cannot be used', async () => {
    const { config, root } = await testConfig();
    await writeFile(path.join(root, 'not-a-dir'), 'x');
    await expect(
      startService(
        { ...config, feedbackDir: path.join(root, 'not-a-dir', 'feedback') },
        { log: pino({ level: 'silent' }) },
      ),
    ).rejects.toThrow(/ENOTDIR/);
  });

  it('rejects a MODEL_VERSION that is no version, range or latest, and a malformed GITHUB_REPOSITORY', async () => {
    await expect(testConfig({ MODEL_VERSION: 'garbage!!' })).rejects.toThrow(
      'invalid configuration: MODEL_VERSION: must be a version (1.2.3), a semver range (^1.2, ~1.2.3, >=1.0 <2) or latest',
    );
    await expect(testConfig({ GITHUB_REPOSITORY: 'notaslug' })).rejects.toThrow(
      'invalid configuration: GITHUB_REPOSITORY: must be owner/name',
    );
  });
});

describe('the CLI', () => {
  it('exits 1 with the reason when no model can be loaded, and 2 on a bad configuration', async () => {
    const { root } = await testConfig();
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', pathToFileURL(require.resolve('tsx')).href, 'model-service/src/main.ts'],
          { env: { ...process.env, LOG_LEVEL: 'silent', PORT: '0', ...env }, timeout: 60_000 },
          (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
        ),
      );
    const missing = await run({ MODEL_REGISTRY_DIR: path.join(root, 'nothing-here') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `model-service: cannot load a model: no model to serve: MODEL_VERSION=latest from ${path.join(root, 'nothing-here')}: `,
    );
    expect(missing.stderr).toContain('Train and publish one with `npm run pipeline`');
    const bad = await run({ PORT: 'eighty', MODEL_SOURCE: 'ftp' });
    expect(bad).toEqual({
      code: 2,
      stderr: expect.stringMatching(/^model-service: invalid configuration: PORT: .*; MODEL_SOURCE: .*\n$/),
    });
  });
});
