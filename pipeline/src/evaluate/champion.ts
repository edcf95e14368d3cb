/**
 * Champion/challenger: evaluate scores the released model (the champion: the newest stable release, or
 * the one evaluate.champion.version names) and the new model (the challenger) on exactly the same rows —
 * the held-out test rows, then the fresh rows — and compares their paired correctness with McNemar's
 * test (evaluate/mcnemar.ts). The result is metrics.json's `champion` and reports/evaluated.json's
 * `champion`; publish refuses a challenger significantly worse than the champion (evaluate/gate.ts).
 *
 * The champion is resolved when evaluate runs (the releases folder is publish's output, so DVC cannot list
 * it as an evaluate dependency); publish resolves it again and refuses when it changed.
 */
import { loadBundle, scoreTexts, type Predictor } from '@restaurant-sentiment/lib-ml';
import type { LabelledRow } from '../data/dataset.js';
import { PipelineError } from '../errors.js';
import { readRecord } from '../lineage.js';
import { PATHS } from '../paths.js';
import { resolvePath, type StageContext } from '../stage.js';
import type { Metrics } from '../stages/evaluate.js';
import type { PrepareStats } from '../stages/prepare.js';
import { championRegistry, resolveChampion, type ChampionOutcome } from './gate.js';
import {
  discordantPairs,
  mcnemarTest,
  mcnemarVerdict,
  type McNemarResult,
  type McNemarVerdict,
} from './mcnemar.js';
import { accuracyMetrics, roundDeep, type AccuracyMetrics } from './metrics.js';

/** metrics.json's `champion` when a champion was scored. */
export interface ComparedChampion {
  /** evaluate.champion.version ("latest", a version or a range). */
  spec: string;
  /** The champion's version (semver, without "v"). */
  version: string;
  /** sha256 of the champion's weights.bin (from its verified manifest). */
  weights_sha256: string;
  /**
   * Whether the champion was trained on the same split: same dataset sha256 and the same data.historic_rows,
   * prepare.test_size and prepare.seed in its manifest. When false, some test rows may have been in the
   * champion's training data, which flatters the champion (a warning is logged).
   */
  same_split: boolean;
  /** Rows both models were scored on: test rows + fresh rows. */
  rows: number;
  /** Accuracy of each model on those rows, in [0, 1]. */
  accuracy: { champion: number; challenger: number };
  /** The champion's figures on the test rows (the challenger's are metrics.json's `test`). */
  test: AccuracyMetrics;
  /** The champion's figures on the fresh rows (null accuracies when there are none). */
  fresh: Metrics['fresh'];
  /** McNemar's test on the paired correctness over all `rows` (p-values to 6 significant digits). */
  mcnemar: McNemarResult;
  /** evaluate.champion.alpha. */
  alpha: number;
  /** From the exact p-value (see mcnemarVerdict); publish refuses "worse". */
  verdict: McNemarVerdict;
}

/** metrics.json's `champion` when there is none to compare with (the champion gate passes). */
export interface NoChampion {
  spec: string;
  version: null;
  /**
   * Why, e.g. `no release to compare with in releases: no stable version available for "latest"
   * (available: none)`.
   */
  reason: string;
  alpha: number;
  verdict: 'no_champion';
}

/** metrics.json's `champion`. */
export type ChampionComparison = ComparedChampion | NoChampion;

/** A number to 6 significant digits (p-values keep their size: 8.25581e-17, not 0). */
const significant = (x: number): number => Number(x.toPrecision(6));

/** Per row, whether score ≥ 0.5 gives the label (the threshold of every accuracy in metrics.json). */
function correctness(scores: ArrayLike<number>, rows: readonly LabelledRow[]): boolean[] {
  return rows.map((r, i) => (scores[i] >= 0.5 ? 1 : 0) === r.label);
}

/** The fresh-set figures in metrics.json's shape: null accuracies for an empty set. */
function freshMetrics(rows: readonly LabelledRow[], scores: ArrayLike<number>): Metrics['fresh'] {
  if (rows.length === 0) {
    return {
      rows: 0,
      class_counts: { negative: 0, positive: 0 },
      accuracy: null,
      balanced_accuracy: null,
      majority_baseline: null,
    };
  }
  return accuracyMetrics(
    rows.map((r) => r.label),
    scores,
  );
}

/** Whether the champion's manifest describes the same dataset and split as the current params and data. */
function sameSplit(
  manifest: { dataset?: { sha256?: unknown }; params?: Record<string, unknown> },
  ctx: StageContext,
  datasetSha256: string,
): boolean {
  const p = manifest.params as
    { data?: { historic_rows?: unknown }; prepare?: { test_size?: unknown; seed?: unknown } } | undefined;
  return (
    manifest.dataset?.sha256 === datasetSha256 &&
    p?.data?.historic_rows === ctx.params.data.historic_rows &&
    p?.prepare?.test_size === ctx.params.prepare.test_size &&
    p?.prepare?.seed === ctx.params.prepare.seed
  );
}

/**
 * Scores the champion and the challenger on the same rows and compares them.
 * @param challenger the model just trained (models/), not disposed here.
 * @param sets the test rows and the fresh rows (either may be empty), as prepare wrote them.
 * @returns metrics.json's `champion`: {@link NoChampion} for evaluate.champion.version "none" or when the
 *   registry has no stable release for "latest"; else {@link ComparedChampion}, figures rounded to 6
 *   decimals (p-values to 6 significant digits).
 * @throws PipelineError when the named version or range matches no release, or the champion release
 *   cannot be loaded (checksum, lib-ml range, mislabelled manifest): a champion that cannot be checked
 *   is never skipped silently.
 */
export async function compareWithChampion(
  ctx: StageContext,
  challenger: Predictor,
  sets: { test: readonly LabelledRow[]; fresh: readonly LabelledRow[] },
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChampionComparison> {
  const { version: spec, alpha } = ctx.params.evaluate.champion;
  const registry = championRegistry(ctx, env);
  const resolved = await resolveChampion(registry, spec);
  if (resolved.version === null) {
    ctx.log.info({ champion: null, reason: resolved.reason }, 'no champion to compare with');
    return { spec, version: null, reason: resolved.reason, alpha, verdict: 'no_champion' };
  }
  const name = `champion model-v${resolved.version} in ${registry.label}`;
  let champion: Awaited<ReturnType<typeof loadBundle>>;
  try {
    champion = await loadBundle(resolved.dir);
  } catch (error) {
    throw new PipelineError(
      `${name} cannot be loaded: ${(error as Error).message}; repair or remove it, or set evaluate.champion.version to another release or none`,
    );
  }
  try {
    if (champion.manifest.version !== resolved.version) {
      throw new PipelineError(
        `${name}: its manifest says version ${champion.manifest.version}; refusing to compare with a mislabelled release`,
      );
    }
    const rows = [...sets.test, ...sets.fresh];
    const texts = rows.map((r) => r.text);
    const championScores = scoreTexts(champion, texts);
    const challengerScores = scoreTexts(challenger, texts);
    const championRight = correctness(championScores, rows);
    const challengerRight = correctness(challengerScores, rows);
    const { b, c } = discordantPairs(championRight, challengerRight);
    const test = mcnemarTest(b, c);
    const nTest = sets.test.length;
    const stats = await readRecord<PrepareStats>(
      resolvePath(ctx, PATHS.stats),
      'run the prepare stage first',
    );
    const share = (right: boolean[]) => (rows.length ? right.filter(Boolean).length / rows.length : 0);
    const comparison: ComparedChampion = {
      spec,
      version: resolved.version,
      weights_sha256: resolved.weights_sha256,
      same_split: sameSplit(champion.manifest, ctx, stats.sha256),
      rows: rows.length,
      accuracy: roundDeep({ champion: share(championRight), challenger: share(challengerRight) }),
      test: roundDeep(
        accuracyMetrics(
          sets.test.map((r) => r.label),
          championScores.subarray(0, nTest),
        ),
      ),
      fresh: roundDeep(freshMetrics(sets.fresh, championScores.subarray(nTest))),
      mcnemar: {
        ...test,
        statistic: roundDeep(test.statistic),
        chi2_p_value: significant(test.chi2_p_value),
        p_value: significant(test.p_value),
        mid_p_value: significant(test.mid_p_value),
      },
      alpha,
      verdict: mcnemarVerdict(test, alpha),
    };
    const log = {
      champion: comparison.version,
      rows: comparison.rows,
      accuracy: comparison.accuracy,
      b,
      c,
      pValue: comparison.mcnemar.p_value,
      alpha,
      verdict: comparison.verdict,
      sameSplit: comparison.same_split,
    };
    if (!comparison.same_split) {
      ctx.log.warn(
        log,
        'the champion was trained on another dataset or split: some held-out rows may be in its training data',
      );
    }
    if (comparison.verdict === 'worse') {
      ctx.log.warn(log, 'the new model is significantly worse than the champion: publish will refuse it');
    } else {
      ctx.log.info(log, 'compared with the champion');
    }
    return comparison;
  } finally {
    champion.model.dispose();
  }
}

/**
 * reports/evaluated.json's `champion`: the figures publish needs from metrics.json's `champion`.
 */
export function championOutcome(comparison: ChampionComparison): ChampionOutcome {
  if (comparison.version === null) {
    return {
      spec: comparison.spec,
      version: null,
      weights_sha256: null,
      reason: comparison.reason,
      rows: 0,
      champion_accuracy: null,
      challenger_accuracy: null,
      b: null,
      c: null,
      p_value: null,
      alpha: comparison.alpha,
      verdict: comparison.verdict,
    };
  }
  return {
    spec: comparison.spec,
    version: comparison.version,
    weights_sha256: comparison.weights_sha256,
    reason: null,
    rows: comparison.rows,
    champion_accuracy: comparison.accuracy.champion,
    challenger_accuracy: comparison.accuracy.challenger,
    b: comparison.mcnemar.b,
    c: comparison.mcnemar.c,
    p_value: comparison.mcnemar.p_value,
    alpha: comparison.alpha,
    verdict: comparison.verdict,
  };
}
