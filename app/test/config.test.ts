/** loadConfig (environment variables) and loadTeam (the People page's team file). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_DIR, loadConfig } from '../src/config.js';
import { loadTeam } from '../src/team.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'app-team-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const member = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Name of ${id}`,
  role: 'Engineer',
  profileUrl: `https://example.org/${id}`,
  ...extra,
});

/** Writes `content` (JSON-encoded unless a string) to a temp file and returns its path. */
async function teamFile(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadTeam', () => {
  it('loads a valid team file', async () => {
    const file = await teamFile('ok.json', [member('a'), member('b-2', { bio: 'Likes soup.' })]);
    expect(await loadTeam(file)).toEqual([member('a'), member('b-2', { bio: 'Likes soup.' })]);
  });

  it('rejects a bad id, naming the file and the field', async () => {
    const file = await teamFile('bad-id.json', [member('good'), member('Bad Id')]);
    await expect(loadTeam(file)).rejects.toThrow(
      `${file}: 1.id: must be lowercase letters, digits and dashes (≤ 41)`,
    );
  });

  it.each(['-leading-dash', 'a'.repeat(42), 'x/../y', ''])('rejects the id %j', async (id) => {
    const file = await teamFile('bad-ids.json', [member(id)]);
    await expect(loadTeam(file)).rejects.toThrow(`${file}: 0.id: must be lowercase`);
  });

  it('rejects duplicate ids, naming the file and the id', async () => {
    const file = await teamFile('dup.json', [member('a'), member('b'), member('a')]);
    await expect(loadTeam(file)).rejects.toThrow(`${file}: duplicate member id "a"`);
  });

  it('rejects a file that is not JSON, naming the file', async () => {
    const file = await teamFile('not-json.json', '[{"id": "a",');
    await expect(loadTeam(file)).rejects.toThrow(`${file}: cannot read the team file: `);
  });

  it('rejects a missing file, naming it', async () => {
    const file = path.join(dir, 'missing.json');
    await expect(loadTeam(file)).rejects.toThrow(`${file}: cannot read the team file: ENOENT`);
  });

  it('rejects an empty team and a non-array', async () => {
    const empty = await teamFile('empty.json', []);
    await expect(loadTeam(empty)).rejects.toThrow(`${empty}: team: `);
    const object = await teamFile('object.json', { members: [member('a')] });
    await expect(loadTeam(object)).rejects.toThrow(`${object}: team: `);
  });

  it('rejects a profile URL that is not http(s)', async () => {
    const file = await teamFile('js-url.json', [member('a', { profileUrl: 'javascript:alert(1)' })]);
    await expect(loadTeam(file)).rejects.toThrow(`${file}: 0.profileUrl: must be http(s)`);
  });

  it('rejects a member without a name', async () => {
    const file = await teamFile('no-name.json', [member('a', { name: '' })]);
    await expect(loadTeam(file)).rejects.toThrow(`${file}: 0.name: `);
  });
});

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      modelServiceUrl: 'http://127.0.0.1:5001',
      modelServiceTimeoutMs: 3000,
      teamFile: path.join(APP_DIR, 'config', 'team.example.json'),
      variant: 'control',
      rateLimitPerMinute: 60,
      trustProxy: 0,
      stickyCookieName: undefined,
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      keepAliveTimeoutMs: 65_000,
    });
  });

  it('reads the variables, treating empty ones as unset', () => {
    const config = loadConfig({
      PORT: '9000',
      MODEL_SERVICE_URL: 'http://model-service:5000/',
      MODEL_SERVICE_TIMEOUT_MS: '250',
      EXPERIMENT_VARIANT: 'treatment',
      RATE_LIMIT_PER_MINUTE: '5',
      TRUST_PROXY: '2',
      STICKY_COOKIE_NAME: 'rs-version',
      LOG_LEVEL: '',
    });
    expect(config).toMatchObject({
      port: 9000,
      modelServiceUrl: 'http://model-service:5000',
      modelServiceTimeoutMs: 250,
      variant: 'treatment',
      rateLimitPerMinute: 5,
      trustProxy: 2,
      stickyCookieName: 'rs-version',
      logLevel: 'info',
    });
    expect(loadConfig({ STICKY_COOKIE_NAME: '' }).stickyCookieName).toBeUndefined();
  });

  it.each(['rs version', 'rs;version', 'rs=version', 'rs-vérsion', '"rs"'])(
    'rejects STICKY_COOKIE_NAME=%j, which is no cookie name',
    (name) => {
      expect(() => loadConfig({ STICKY_COOKIE_NAME: name })).toThrow(
        "invalid configuration: STICKY_COOKIE_NAME: must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
      );
    },
  );

  it('rejects EXPERIMENT_VARIANT=blue, naming the variable', () => {
    expect(() => loadConfig({ EXPERIMENT_VARIANT: 'blue' })).toThrow(
      /^invalid configuration: EXPERIMENT_VARIANT: /,
    );
  });

  it('lists every invalid variable', () => {
    expect(() => loadConfig({ PORT: 'abc', MODEL_SERVICE_URL: 'not a url', TRUST_PROXY: 'yes' })).toThrow(
      /PORT: .*; MODEL_SERVICE_URL: .*; TRUST_PROXY: /,
    );
  });
});
