/**
 * The publish stage's refusals, on workspaces whose stage outputs are written by the test (no training):
 * a model that failed the accuracy gate is never published (library call and CLI), and a read-only
 * releases folder is reported in one line.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { sha256Hex } from '../src/data/raw.js';
import { PipelineError } from '../src/errors.js';
import type { EvaluatedRecord, GateOutcome } from '../src/stages/evaluate.js';
import { describeWriteError, publish, requireBehaviouralGatePassed } from '../src/stages/publish.js';
import { createWorkspace, REPO_ROOT } from './workspace.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const READ_ONLY_FS = path.join(REPO_ROOT, 'pipeline/test/fixtures/read-only-fs.mjs');

/** Runs the publish stage CLI (as dvc.yaml does) in `cwd`, with extra `node` flags and environment. */
function runPublishCli(
  cwd: string,
  flags: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const script = path.join(REPO_ROOT, 'pipeline/src/stages/publish.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, ...flags, script],
      { cwd, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          status: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

/**
 * A workspace as evaluate leaves it: model files, stats.json, metrics.json, reports/reference.json and
 * reports/evaluated.json with the given gate outcome (null: a record without one, as older pipelines wrote).
 */
async function evaluatedWorkspace(gate: GateOutcome | null, minAccuracy = 0.8) {
  const ws = await createWorkspace({ evaluate: { min_accuracy: minAccuracy } });
  const at = (p: string) => path.join(ws.root, p);
  await mkdir(at('models'), { recursive: true });
  await mkdir(at('reports'), { recursive: true });
  await mkdir(at('data/prepared'), { recursive: true });
  const weights = Buffer.from([1, 2, 3, 4]);
  await writeFile(at('models/model.json'), '{"format":"layers-model"}\n');
  await writeFile(at('models/weights.bin'), weights);
  await writeFile(at('models/vectorizer.json'), '{}\n');
  await writeFile(
    at('data/prepared/stats.json'),
    JSON.stringify({ source: 'test', sha256: 'ab'.repeat(32), rows: { train: 8, test: 2, fresh: 0 } }),
  );
  const metrics = JSON.stringify({ test: { rows: 2, accuracy: gate?.accuracy ?? 0.9 } }) + '\n';
  await writeFile(at('metrics.json'), metrics);
  const record: Partial<EvaluatedRecord> = {
    weights_sha256: sha256Hex(weights),
    train_sha256: 'cd'.repeat(32),
    ...(gate ? { metrics_sha256: sha256Hex(Buffer.from(metrics)), gate } : {}),
  };
  await writeFile(at('reports/evaluated.json'), JSON.stringify(record));
  // The drift reference evaluate writes next to it (pipeline/test/reference.test.ts tests its handling).
  const bins = (n: number, buckets: number[]) => ({
    buckets,
    counts: [n, ...buckets.slice(1).map(() => 0)],
    excluded: 0,
  });
  const reference = {
    dataset: 'test',
    rows: 2,
    predictionScore: bins(2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]),
    oovRate: bins(2, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1]),
  };
  await writeFile(
    at('reports/reference.json'),
    JSON.stringify({ weights_sha256: sha256Hex(weights), reference, distances: {} }),
  );
  return ws;
}

const failed: GateOutcome = { metric: 'test.accuracy', accuracy: 0.75, min_accuracy: 0.8, passed: false };
const passed: GateOutcome = { metric: 'test.accuracy', accuracy: 0.9, min_accuracy: 0.8, passed: true };

/** Entries of a folder of the workspace, or null when it does not exist. */
const list = (root: string, dir: string) => readdir(path.join(root, dir)).catch(() => null);

describe('publish and the accuracy gate', () => {
  it('refuses a model that failed the gate and writes nothing', async () => {
    const ws = await evaluatedWorkspace(failed);
    try {
      await expect(publish(ws.ctx)).rejects.toThrow(
        new PipelineError(
          'publish refused: gate failed: test accuracy 0.75 is below evaluate.min_accuracy 0.8; the model is not published',
        ),
      );
      // Lowering the threshold afterwards does not publish it either: evaluate must run again.
      const lowered = {
        ...ws.ctx,
        params: { ...ws.ctx.params, evaluate: { ...ws.ctx.params.evaluate, min_accuracy: 0.5 } },
      };
      await expect(publish(lowered)).rejects.toThrow('publish refused: gate failed: test accuracy 0.75');
      expect(await list(ws.root, 'dist')).toBeNull();
      expect(await list(ws.root, 'releases')).toBeNull();
    } finally {
      await ws.cleanup();
    }
  });

  it('the publish CLI exits 1 with the accuracy and the threshold, no stack trace, nothing written', async () => {
    const ws = await evaluatedWorkspace(failed);
    try {
      const result = await runPublishCli(ws.root);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        '\npublish: error: publish refused: gate failed: test accuracy 0.75 is below evaluate.min_accuracy 0.8; the model is not published\n',
      );
      expect(result.stdout).not.toContain('stack');
      expect(await list(ws.root, 'dist')).toBeNull();
      expect(await list(ws.root, 'releases')).toBeNull();
    } finally {
      await ws.cleanup();
    }
  });

  it('refuses when params.yaml now asks for more than the recorded accuracy', async () => {
    const ws = await evaluatedWorkspace(passed, 0.95);
    try {
      await expect(publish(ws.ctx)).rejects.toThrow(
        'publish refused: gate failed: test accuracy 0.9 is below evaluate.min_accuracy 0.95; the model is not published (evaluate.min_accuracy was 0.8 when evaluate ran)',
      );
      expect(await list(ws.root, 'releases')).toBeNull();
    } finally {
      await ws.cleanup();
    }
  });

  it('refuses a record without a gate outcome, and a metrics.json changed since evaluate', async () => {
    const old = await evaluatedWorkspace(null);
    try {
      await expect(publish(old.ctx)).rejects.toThrow(
        'reports/evaluated.json records no gate outcome (written by an older pipeline); run the evaluate stage before publish',
      );
    } finally {
      await old.cleanup();
    }
    const ws = await evaluatedWorkspace(passed);
    try {
      await writeFile(path.join(ws.root, 'metrics.json'), '{"test":{"accuracy":0.99}}\n');
      await expect(publish(ws.ctx)).rejects.toThrow(
        /^metrics\.json changed since it was used .*; run the evaluate stage before publish$/,
      );
      expect(await list(ws.root, 'releases')).toBeNull();
    } finally {
      await ws.cleanup();
    }
  });

  it('publishes a model that passed', async () => {
    const ws = await evaluatedWorkspace(passed);
    try {
      const result = await publish(ws.ctx);
      expect(result.created).toBe(true);
      expect((await list(ws.root, 'releases/model-v1.0.0'))?.sort()).toEqual([
        'manifest.json',
        'model.json',
        'vectorizer.json',
        'weights.bin',
      ]);
    } finally {
      await ws.cleanup();
    }
  });
});

describe('publish and the behavioural gate', () => {
  const ctxWith = (minPassRate: number | null) =>
    ({ params: { evaluate: { behavioural: { min_pass_rate: minPassRate } } } }) as unknown as Parameters<
      typeof requireBehaviouralGatePassed
    >[0];
  const failed = {
    behavioural: {
      min_pass_rate: 0.8,
      passed: false,
      failing: [
        { capability: 'negation', pass_rate: 0.631 },
        { capability: 'negated_negative', pass_rate: 0.5 },
      ],
    },
  };

  it('refuses a model whose behavioural gate failed, naming the capabilities and their pass rates', () => {
    expect(() => requireBehaviouralGatePassed(ctxWith(0.8), failed)).toThrow(
      new PipelineError(
        'publish refused: behavioural gate failed: pass rate below evaluate.behavioural.min_pass_rate 0.8: negation 0.631, negated_negative 0.5',
      ),
    );
  });

  it('refuses when min_pass_rate changed since evaluate ran, or a gate is asked of an older record', () => {
    const passedAt = (rate: number | null) => ({
      behavioural: { min_pass_rate: rate, passed: true, failing: [] },
    });
    expect(() => requireBehaviouralGatePassed(ctxWith(0.9), passedAt(0.5))).toThrow(
      'publish refused: evaluate.behavioural.min_pass_rate is 0.9 but was 0.5 when evaluate ran; run the evaluate stage before publish',
    );
    expect(() => requireBehaviouralGatePassed(ctxWith(0.9), {})).toThrow(
      'publish refused: reports/evaluated.json records no behavioural gate but evaluate.behavioural.min_pass_rate is 0.9; run the evaluate stage before publish',
    );
  });

  it('passes a passed gate at the current rate, the gate off, and an older record with the gate off', () => {
    expect(
      requireBehaviouralGatePassed(ctxWith(0.5), {
        behavioural: { min_pass_rate: 0.5, passed: true, failing: [] },
      }),
    ).toBeUndefined();
    expect(
      requireBehaviouralGatePassed(ctxWith(null), {
        behavioural: { min_pass_rate: null, passed: true, failing: [] },
      }),
    ).toBeUndefined();
    expect(requireBehaviouralGatePassed(ctxWith(null), {})).toBeUndefined();
  });
});

describe('publish to a read-only releases folder', () => {
  it('maps write errors to one line that says read-only', () => {
    const error = (code: string, syscall = 'mkdir') =>
      Object.assign(new Error(`${code}: boom, ${syscall} '/srv/releases/.model-v1.0.0.tmp-1'`), {
        code,
        syscall,
        path: '/srv/releases/.model-v1.0.0.tmp-1',
      });
    const map = (e: unknown) =>
      describeWriteError(
        e,
        'cannot publish model-v1.0.0',
        'the releases folder /srv/releases',
        'make it writable',
      );
    expect(map(error('EACCES'))).toEqual(
      new PipelineError(
        'cannot publish model-v1.0.0: the releases folder /srv/releases is read-only for this user (EACCES on mkdir); make it writable',
      ),
    );
    expect((map(error('EPERM', 'rename')) as Error).message).toBe(
      'cannot publish model-v1.0.0: the releases folder /srv/releases is read-only for this user (EPERM on rename); make it writable',
    );
    expect((map(error('EROFS')) as Error).message).toBe(
      'cannot publish model-v1.0.0: the releases folder /srv/releases is on a read-only file system (EROFS on mkdir); make it writable',
    );
    expect((map(error('ENOSPC', 'write')) as Error).message).toBe(
      'cannot publish model-v1.0.0: writing to the releases folder /srv/releases failed (ENOSPC on write)',
    );
    for (const other of [new PipelineError('release exists'), new Error('plain'), 'text']) {
      expect(map(other)).toBe(other);
    }
  });

  it('the publish CLI exits 1 with that line and no stack trace (0555 folder)', async () => {
    const ws = await evaluatedWorkspace(passed);
    const releases = path.join(ws.root, 'releases');
    try {
      await mkdir(releases);
      await chmod(releases, 0o555);
      // Root ignores the mode: there, make the same writes fail as the kernel fails them for other users.
      const asRoot = process.getuid?.() === 0;
      const result = await runPublishCli(
        ws.root,
        asRoot ? ['--import', pathToFileURL(READ_ONLY_FS).href] : [],
        asRoot ? { READ_ONLY_DIR: releases } : {},
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `\npublish: error: cannot publish model-v1.0.0: the releases folder ${releases} is read-only for this user (EACCES on mkdir); make it writable, or point publish.registry_dir (or PUBLISH_REGISTRY_DIR) at a writable folder\n`,
      );
      expect(result.stdout).not.toContain('stack');
      expect(await readdir(releases)).toEqual([]);
    } finally {
      await chmod(releases, 0o755).catch(() => {});
      await ws.cleanup();
    }
  });
});
