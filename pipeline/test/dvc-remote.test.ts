/**
 * DVC remote storage on S3-compatible storage, for real: moto's S3 server (`.venv/bin/moto_server`, pinned
 * in requirements.txt) on 127.0.0.1, a remote added with `dvc remote add -d` and `dvc remote modify
 * endpointurl` (committed, without credentials: those come from the environment only), `dvc push` from a
 * trained copy of the repository, and `dvc pull` in a fresh `git clone` of it, which then has every
 * output byte for byte and nothing to run: the model arrives without training.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  freePort,
  startProcess,
  stopProcess,
  waitForOutput,
  type Started,
} from '../../ops/helm/test/support/processes.js';
import { toolAvailable } from '../../test/support/system-tool.js';
import {
  cloneRepository,
  copyRepository,
  dvcAvailable,
  lockedOutputs,
  PYTHON_TOOLS_INSTALL,
  readOutputs,
  stagesRun,
  type RepoCopy,
} from './support/dvc-workspace.js';
import { REPO_ROOT } from './workspace.js';

const MOTO = path.join(REPO_ROOT, '.venv/bin/moto_server');
const RUN =
  dvcAvailable('the DVC remote storage tests') &&
  toolAvailable(
    existsSync(MOTO) ? null : `${MOTO} not found`,
    'the DVC remote storage tests',
    PYTHON_TOOLS_INSTALL,
  );

const QUICK_PARAMS = { 'evaluate.folds': 2, 'vectorizer.char.enabled': false, 'train.epochs': 10 };
const BUCKET = 'rs-dvc-test';
const UP_TO_DATE = 'Data and pipelines are up to date.\n';

/** Every file under `dir` (recursively), as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

(RUN ? describe : describe.skip)('DVC remote on a local S3-compatible server (moto)', () => {
  let trained: RepoCopy;
  let clone: RepoCopy | undefined;
  let moto: Started | undefined;
  let endpoint: string;

  /**
   * The variables botocore (under dvc-s3) reads: test credentials when `credentials`, and never the
   * developer's ~/.aws files or the cloud metadata service.
   */
  const s3Env = (credentials: boolean): Record<string, string> => ({
    AWS_SHARED_CREDENTIALS_FILE: path.join(trained.home, 'no-aws-credentials'),
    AWS_CONFIG_FILE: path.join(trained.home, 'no-aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_DEFAULT_REGION: 'us-east-1',
    ...(credentials
      ? { AWS_ACCESS_KEY_ID: 'test-access-key', AWS_SECRET_ACCESS_KEY: 'test-secret-key' }
      : {}),
  });

  /** The keys in the bucket (ListObjectsV2; the test stores far fewer than a page of 1000). */
  async function bucketKeys(): Promise<string[]> {
    const response = await fetch(`${endpoint}/${BUCKET}?list-type=2`);
    expect(response.status).toBe(200);
    const xml = await response.text();
    expect(xml).toContain('<IsTruncated>false</IsTruncated>');
    return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]).sort();
  }

  beforeAll(async () => {
    trained = await copyRepository(QUICK_PARAMS);
    await trained.dvc(['repro'], { timeoutMs: 240_000 });
    await trained.git(['add', 'dvc.lock']);
    await trained.git(['commit', '--quiet', '--message', 'dvc repro']);

    const port = await freePort();
    moto = startProcess('moto_server', MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
      PYTHONUNBUFFERED: '1',
    });
    await waitForOutput(moto, new RegExp(`Running on http://127\\.0\\.0\\.1:${port}`), 30_000);
    endpoint = `http://127.0.0.1:${port}`;
    // A plain S3 CreateBucket request (moto does not check signatures).
    const created = await fetch(`${endpoint}/${BUCKET}`, { method: 'PUT' });
    expect(created.status).toBe(200);
  }, 300_000);

  afterAll(async () => {
    if (moto) await stopProcess(moto);
    await clone?.cleanup();
    await trained?.cleanup();
  });

  it('dvc remote add / modify commit the remote to .dvc/config, without credentials', async () => {
    await trained.dvc(['remote', 'add', '--default', 'storage', `s3://${BUCKET}/dvcstore`]);
    await trained.dvc(['remote', 'modify', 'storage', 'endpointurl', endpoint]);
    expect(await readFile(path.join(trained.root, '.dvc/config'), 'utf8')).toBe(
      `[core]\n    analytics = false\n    remote = storage\n['remote "storage"']\n    url = s3://${BUCKET}/dvcstore\n    endpointurl = ${endpoint}\n`,
    );
    expect(existsSync(path.join(trained.root, '.dvc/config.local'))).toBe(false);
    await trained.git(['commit', '--quiet', '--all', '--message', 'DVC remote']);
  });

  it('dvc push needs credentials from the environment, then uploads every cached file', async () => {
    const refused = await trained.dvc(['push'], { env: s3Env(false), allowFailure: true });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('ERROR: unexpected error - Unable to locate credentials');
    expect(await bucketKeys()).toEqual([]);

    const pushed = await trained.dvc(['push'], { env: s3Env(true) });
    const cached = await filesUnder(path.join(trained.root, '.dvc/cache/files/md5'));
    expect(pushed.stdout).toContain(`${cached.length} files pushed`);
    expect(await bucketKeys()).toEqual(cached.map((file) => `dvcstore/files/md5/${file}`));
  });

  it('a fresh git clone gets every output with dvc pull, byte for byte, and has nothing to run', async () => {
    const outs = await lockedOutputs(trained.root);
    const expected = await readOutputs(trained.root, outs);
    expect([...expected.keys()]).toEqual(
      expect.arrayContaining([
        'models/weights.bin',
        'dist/model/manifest.json',
        'releases/model-v1.0.0/weights.bin',
      ]),
    );
    // The pulled files can only come from the S3 server: the trained copy's cache is gone.
    await rm(path.join(trained.root, '.dvc/cache'), { recursive: true });

    clone = await cloneRepository(trained);
    expect(await readOutputs(clone.root, outs)).toEqual(new Map());
    const pulled = await clone.dvc(['pull'], { env: s3Env(true) });
    expect(stagesRun(pulled.stdout)).toEqual([]);
    const got = await readOutputs(clone.root, outs);
    expect([...got.keys()]).toEqual([...expected.keys()]);
    expect(
      [...got].filter(([file, bytes]) => !bytes.equals(expected.get(file)!)).map(([file]) => file),
    ).toEqual([]);

    // Nothing to train, evaluate or publish: the pulled outputs match dvc.lock.
    expect((await clone.dvc(['status'])).stdout).toBe(UP_TO_DATE);
    const repro = await clone.dvc(['repro'], { timeoutMs: 60_000 });
    expect(stagesRun(repro.stdout)).toEqual([]);
    expect(repro.stdout.endsWith(UP_TO_DATE)).toBe(true);
  }, 120_000);
});
