/**
 * Champion/challenger on the real data with small, seeded models (word n-grams only, 2-fold CV): a first
 * model released without a champion; a challenger made significantly worse (5 word features, no lexicons)
 * is recorded as "worse" by evaluate and refused by publish (library and CLI), which writes nothing; a
 * challenger of the same quality (another training seed) is published. Then the champion re-check and the
 * resolution errors, on the same releases folder.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { initBackend, loadModelArtifacts } from '@restaurant-sentiment/lib-ml';
import { readJsonl } from '../src/data/dataset.js';
import { PipelineError } from '../src/errors.js';
import { compareWithChampion } from '../src/evaluate/champion.js';
import { requireNotWorseThanChampion, type ChampionOutcome } from '../src/evaluate/gate.js';
import type { Params } from '../src/params.js';
import type { StageContext } from '../src/stage.js';
import { evaluate, type EvaluatedRecord } from '../src/stages/evaluate.js';
import { prepare } from '../src/stages/prepare.js';
import { publish } from '../src/stages/publish.js';
import { train } from '../src/stages/train.js';
import { createWorkspace, REPO_ROOT } from './workspace.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs the publish stage CLI (as dvc.yaml does) in `cwd` with extra environment. */
function runPublishCli(
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stderr: string }> {
  const script = path.join(REPO_ROOT, 'pipeline/src/stages/publish.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, script],
      { cwd, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

/**
 * Small, fast models: word unigrams and bigrams only, 2-fold cross-validation. The negation rules are
 * pinned to "punctuation" so that the exact McNemar figures below do not move with the default rules.
 */
const SMALL = {
  vectorizer: { word: { max_features: 3000 }, char: { enabled: false }, negation: 'punctuation' as const },
  train: { epochs: 30 },
  evaluate: { folds: 2, min_accuracy: 0.5 },
};

/** The context with some params replaced (one level deep per section). */
function withParams(ctx: StageContext, patch: { [K in keyof Params]?: Partial<Params[K]> }): StageContext {
  const params = structuredClone(ctx.params) as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(patch)) Object.assign(params[section], values);
  return { ...ctx, params: params as unknown as Params };
}

const PUBLISH_ENV = ['PUBLISH_VERSION', 'PUBLISH_REGISTRY_DIR', 'PUBLISH_GITHUB'] as const;

describe('champion/challenger on the real data (small seeded models)', () => {
  let ws: Awaited<ReturnType<typeof createWorkspace>>;
  const savedEnv: Partial<Record<string, string>> = {};
  const at = (p: string) => path.join(ws.root, p);
  const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(at(p), 'utf8')) as T;
  /** Every file of dist/model with its bytes. */
  const distFiles = async () =>
    Object.fromEntries(
      await Promise.all(
        (await readdir(at('dist/model'))).sort().map(async (f) => [f, await readFile(at(`dist/model/${f}`))]),
      ),
    );

  beforeAll(async () => {
    for (const name of PUBLISH_ENV) {
      savedEnv[name] = process.env[name];
      delete process.env[name];
    }
    await initBackend('wasm');
    ws = await createWorkspace(SMALL);
    await prepare(ws.ctx);
  });
  afterAll(async () => {
    for (const name of PUBLISH_ENV) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
    await ws.cleanup();
  });

  it('with no release yet, evaluate records no champion and publish releases the first model', async () => {
    await train(ws.ctx);
    const metrics = await evaluate(ws.ctx);
    const none = {
      spec: 'latest',
      version: null,
      reason:
        'no release to compare with in releases: no stable version available for "latest" (available: none)',
      alpha: 0.05,
      verdict: 'no_champion',
    };
    expect(metrics.champion).toEqual(none);
    expect((await readJson<{ champion: unknown }>('metrics.json')).champion).toEqual(none);
    expect((await readJson<EvaluatedRecord>('reports/evaluated.json')).champion).toEqual({
      spec: 'latest',
      version: null,
      weights_sha256: null,
      reason: none.reason,
      rows: 0,
      champion_accuracy: null,
      challenger_accuracy: null,
      b: null,
      c: null,
      p_value: null,
      alpha: 0.05,
      verdict: 'no_champion',
    });
    expect(metrics.test.accuracy).toBe(0.882682);
    const result = await publish(ws.ctx);
    expect(result.created).toBe(true);
    expect(await readdir(at('releases'))).toEqual(['model-v1.0.0']);
  });

  it('a significantly worse challenger is recorded as worse; publish refuses it and writes nothing', async () => {
    const worse = withParams(ws.ctx, {
      vectorizer: {
        ...ws.ctx.params.vectorizer,
        word: { ...ws.ctx.params.vectorizer.word, max_features: 5 },
      },
      publish: { version: '1.1.0' },
    });
    worse.params.vectorizer.lexicons = [];
    await train(worse);
    const metrics = await evaluate(worse);
    const champion = metrics.champion as Extract<typeof metrics.champion, { version: string }>;
    const { weights_sha256: weights, ...figures } = champion;
    expect(weights).toMatch(/^[0-9a-f]{64}$/);
    expect(figures).toEqual({
      spec: 'latest',
      version: '1.0.0',
      same_split: true,
      rows: 279,
      accuracy: { champion: 0.867384, challenger: 0.537634 },
      test: {
        rows: 179,
        class_counts: { negative: 80, positive: 99 },
        accuracy: 0.882682,
        balanced_accuracy: 0.880745,
        majority_baseline: 0.553073,
      },
      fresh: {
        rows: 100,
        class_counts: { negative: 96, positive: 4 },
        accuracy: 0.84,
        balanced_accuracy: 0.916667,
        majority_baseline: 0.96,
      },
      mcnemar: {
        b: 108,
        c: 16,
        n: 124,
        statistic: 66.782258,
        chi2_p_value: 3.03215e-16,
        p_value: 5.97747e-18,
        mid_p_value: 3.42225e-18,
      },
      alpha: 0.05,
      verdict: 'worse',
    });
    const record = await readJson<EvaluatedRecord>('reports/evaluated.json');
    expect(record.champion).toEqual({
      spec: 'latest',
      version: '1.0.0',
      weights_sha256: weights,
      reason: null,
      rows: 279,
      champion_accuracy: 0.867384,
      challenger_accuracy: 0.537634,
      b: 108,
      c: 16,
      p_value: 5.97747e-18,
      alpha: 0.05,
      verdict: 'worse',
    });

    const before = await distFiles();
    const message =
      'publish refused: model-v1.1.0 is significantly worse than the champion model-v1.0.0: accuracy 0.537634 vs ' +
      '0.867384 on the same 279 test and fresh rows; the champion alone is right on b = 108 rows, the new model ' +
      "alone on c = 16; McNemar's exact p = 5.97747e-18 < alpha 0.05 (evaluate.champion.alpha); the model is not published";
    await expect(publish(worse)).rejects.toThrow(new PipelineError(message));
    // A laxer alpha now does not publish it either: evaluate recorded "worse".
    const lax = withParams(worse, {
      evaluate: { ...worse.params.evaluate, champion: { version: 'latest', alpha: 1e-20 } },
    });
    await expect(publish(lax)).rejects.toThrow(message);
    const cli = await runPublishCli(ws.root, { PUBLISH_VERSION: '1.1.0' });
    expect(cli).toEqual({ status: 1, stderr: `\npublish: error: ${message}\n` });
    expect(await readdir(at('releases'))).toEqual(['model-v1.0.0']);
    expect(await distFiles()).toEqual(before);
  });

  it('a challenger of the same quality is published; publish re-checks the champion', async () => {
    const same = withParams(ws.ctx, { train: { seed: 2 }, publish: { version: '1.1.0' } });
    await train(same);
    const metrics = await evaluate(same);
    expect(metrics.champion).toMatchObject({
      version: '1.0.0',
      rows: 279,
      accuracy: { champion: 0.867384, challenger: 0.863799 },
      // 2 P(X ≤ 5) for X ~ Bin(11, 1/2) is exactly 1; the mid-p 1 − P(X = 5) = 1 − 462/2048.
      mcnemar: { b: 6, c: 5, n: 11, statistic: 0, p_value: 1, mid_p_value: 0.774414 },
      verdict: 'no_significant_difference',
    });

    // A newer release appearing after evaluate: the comparison is stale.
    await cp(at('releases/model-v1.0.0'), at('releases/model-v1.0.1'), { recursive: true });
    await expect(publish(same)).rejects.toThrow(
      new PipelineError(
        'publish refused: the champion changed since evaluate ran: evaluate compared the model with model-v1.0.0, ' +
          'evaluate.champion.version "latest" now gives model-v1.0.1 in releases; run the evaluate stage before publish',
      ),
    );
    await rm(at('releases/model-v1.0.1'), { recursive: true });

    const result = await publish(same);
    expect(result.created).toBe(true);
    expect((await readdir(at('releases'))).sort()).toEqual(['model-v1.0.0', 'model-v1.1.0']);
    // Publishing it again: the newest release is this very model, so there is nothing to compare.
    expect((await publish(same)).created).toBe(false);
  });

  it('compares with a named version or none; a missing version or a corrupt champion is an error', async () => {
    const rows = {
      test: await readJsonl(at('data/prepared/test.jsonl')),
      fresh: await readJsonl(at('data/prepared/fresh.jsonl')),
    };
    const challenger = await loadModelArtifacts(at('models')); // the seed-2 model, released as 1.1.0
    const spec = (version: string) =>
      withParams(ws.ctx, { evaluate: { ...ws.ctx.params.evaluate, champion: { version, alpha: 0.05 } } });
    try {
      expect(await compareWithChampion(spec('latest'), challenger, rows)).toMatchObject({
        version: '1.1.0',
        accuracy: { champion: 0.863799, challenger: 0.863799 },
        mcnemar: { b: 0, c: 0, n: 0, p_value: 1 },
        verdict: 'no_significant_difference',
      });
      expect(await compareWithChampion(spec('~1.0'), challenger, rows)).toMatchObject({
        version: '1.0.0',
        accuracy: { champion: 0.867384, challenger: 0.863799 },
        mcnemar: { b: 6, c: 5 },
        verdict: 'no_significant_difference',
      });
      expect(await compareWithChampion(spec('none'), challenger, rows)).toEqual({
        spec: 'none',
        version: null,
        reason: 'evaluate.champion.version is "none"',
        alpha: 0.05,
        verdict: 'no_champion',
      });
      await expect(compareWithChampion(spec('2.0.0'), challenger, rows)).rejects.toThrow(
        new PipelineError(
          'evaluate.champion.version "2.0.0": version 2.0.0 not found (available: 1.0.0, 1.1.0) in releases; ' +
            'name a release that exists, or set it to latest or none',
        ),
      );
      await writeFile(at('releases/model-v1.0.0/vectorizer.json'), '{}');
      await expect(compareWithChampion(spec('1.0.0'), challenger, rows)).rejects.toThrow(
        /^champion model-v1\.0\.0 in releases cannot be loaded: checksum mismatch for vectorizer\.json: .*; repair or remove it, or set evaluate\.champion\.version to another release or none$/,
      );
    } finally {
      challenger.model.dispose();
    }
  });
});

describe('requireNotWorseThanChampion (records written by hand)', () => {
  const weights = (n: number) => String(n).repeat(64);
  /** A workspace whose releases folder holds model-v1.0.0 (a manifest only: what the check reads). */
  async function registry() {
    const ws = await createWorkspace();
    const dir = path.join(ws.root, 'releases/model-v1.0.0');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ files: { 'weights.bin': { sha256: weights(1) } } }),
    );
    return ws;
  }
  const outcome: ChampionOutcome = {
    spec: 'latest',
    version: '1.0.0',
    weights_sha256: weights(1),
    reason: null,
    rows: 279,
    champion_accuracy: 0.85,
    challenger_accuracy: 0.82,
    b: 20,
    c: 8,
    p_value: 0.0357,
    alpha: 0.01,
    verdict: 'no_significant_difference',
  };

  it('applies a stricter alpha set after evaluate, saying what it was', async () => {
    const ws = await registry();
    try {
      const current = { version: '1.1.0', weightsSha256: weights(2) };
      await expect(requireNotWorseThanChampion(ws.ctx, { champion: outcome }, current, {})).rejects.toThrow(
        new PipelineError(
          'publish refused: model-v1.1.0 is significantly worse than the champion model-v1.0.0: accuracy 0.82 vs 0.85 ' +
            'on the same 279 test and fresh rows; the champion alone is right on b = 20 rows, the new model alone on ' +
            "c = 8; McNemar's exact p = 0.0357 < alpha 0.05 (evaluate.champion.alpha); the model is not published " +
            '(evaluate.champion.alpha was 0.01 when evaluate ran)',
        ),
      );
      // b < c (the new model is the better one): never refused.
      await expect(
        requireNotWorseThanChampion(ws.ctx, { champion: { ...outcome, b: 8, c: 20 } }, current, {}),
      ).resolves.toBeUndefined();
      // The model being published is the champion itself (publishing it again).
      await expect(
        requireNotWorseThanChampion(ws.ctx, {}, { version: '1.0.0', weightsSha256: weights(1) }, {}),
      ).resolves.toBeUndefined();
    } finally {
      await ws.cleanup();
    }
  });

  it('refuses a record from before the champion gate when a release exists, and follows PUBLISH_REGISTRY_DIR', async () => {
    const ws = await registry();
    try {
      const current = { version: '1.1.0', weightsSha256: weights(2) };
      await expect(requireNotWorseThanChampion(ws.ctx, {}, current, {})).rejects.toThrow(
        new PipelineError(
          'publish refused: the champion changed since evaluate ran: evaluate compared the model with no release ' +
            '(the record predates the champion gate), evaluate.champion.version "latest" now gives model-v1.0.0 in ' +
            'releases; run the evaluate stage before publish',
        ),
      );
      // An empty releases folder elsewhere: nothing to compare with, as evaluate recorded.
      await expect(
        requireNotWorseThanChampion(ws.ctx, {}, current, { PUBLISH_REGISTRY_DIR: 'elsewhere' }),
      ).resolves.toBeUndefined();
      await expect(
        requireNotWorseThanChampion(ws.ctx, { champion: outcome }, current, {
          PUBLISH_REGISTRY_DIR: 'elsewhere',
        }),
      ).rejects.toThrow(
        'publish refused: the champion changed since evaluate ran: evaluate compared the model with model-v1.0.0, ' +
          'evaluate.champion.version "latest" now gives no release (no release to compare with in elsewhere: no ' +
          'stable version available for "latest" (available: none)) in elsewhere; run the evaluate stage before publish',
      );
    } finally {
      await ws.cleanup();
    }
  });
});
