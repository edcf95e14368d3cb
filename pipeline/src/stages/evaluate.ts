/**
 * Stage 3, evaluate: scores the trained model on the held-out test split (accuracy, precision, recall,
 * F1, ROC AUC, confusion matrix), runs stratified k-fold cross-validation on the historic rows (train +
 * test splits), and measures accuracy on the fresh rows and on two out-of-domain sets (Amazon and IMDb
 * sentences of the same UCI collection). Every accuracy comes with the set's class counts, balanced
 * accuracy and majority-class baseline. Writes metrics.json and the plot data under reports/plots/, applies
 * the gate `evaluate.min_accuracy` to the test accuracy and records its outcome in reports/evaluated.json,
 * which publish requires to be a pass. It also scores the released champion on the same test + fresh rows
 * and records McNemar's test of the two (metrics.json and evaluated.json `champion`, evaluate/champion.ts);
 * publish refuses a model significantly worse than the champion.
 */
import path from 'node:path';
import {
  initBackend,
  loadModelArtifacts,
  replaceDirAtomic,
  scoreTexts,
  writeFileAtomic,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';
import { readJsonl, stratifiedFolds, type LabelledRow } from '../data/dataset.js';
import { readPackageDataset, sha256Hex } from '../data/raw.js';
import { PipelineError } from '../errors.js';
import {
  accuracyMetrics,
  classCounts,
  classificationMetrics,
  confusion,
  precisionRecallCurve,
  rocCurve,
  roundDeep,
  type AccuracyMetrics,
  type ClassCounts,
  type ClassificationMetrics,
} from '../evaluate/metrics.js';
import { fileSha256, readRecord, requireSame } from '../lineage.js';
import { fitPredictor } from '../model/fit.js';
import { gateFailedMessage, type EvaluatedRecord } from '../evaluate/gate.js';
import { championOutcome, compareWithChampion, type ChampionComparison } from '../evaluate/champion.js';
export type { EvaluatedRecord, GateOutcome } from '../evaluate/gate.js';
import { writeDriftReference } from '../evaluate/reference.js';
import {
  behaviouralGateFailedMessage,
  runBehaviouralSuite,
  type BehaviouralMetrics,
} from '../evaluate/behavioural.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';

/** Cross-validation figures of metrics.json: means over the k folds. */
export interface CrossValidationMetrics {
  folds: number;
  rows: number;
  class_counts: ClassCounts;
  accuracy: number;
  balanced_accuracy: number;
  /** Mean over the folds of each held-out fold's majority-class share. */
  majority_baseline: number;
  /** Population standard deviation of the fold accuracies. */
  accuracy_std: number;
  fold_accuracy: number[];
}

/** Contents of metrics.json (every number rounded to 6 decimals). */
export interface Metrics {
  test: ClassificationMetrics;
  cross_validation: CrossValidationMetrics;
  /** The accuracy figures are null when there are no fresh rows. */
  fresh: {
    rows: number;
    class_counts: ClassCounts;
    accuracy: number | null;
    balanced_accuracy: number | null;
    majority_baseline: number | null;
  };
  out_of_domain: Record<'amazon' | 'imdb', AccuracyMetrics>;
  /** The champion scored on the same test + fresh rows, with McNemar's test (evaluate/champion.ts). */
  champion?: ChampionComparison;
  /** Pass rate per capability of the behavioural suite (evaluate/behavioural.ts). */
  behavioural?: BehaviouralMetrics;
}

/**
 * Summarizes the k held-out folds of a cross-validation.
 * @param folds one entry per fold (k ≥ 1), as {@link accuracyMetrics} gives for the held-out fold.
 * @param labels the labels of all rows cross-validated (for rows and class counts).
 * @returns means over the folds of accuracy, balanced accuracy and baseline, the population standard
 *   deviation of the fold accuracies, and each fold's accuracy.
 */
export function summarizeFolds(
  folds: readonly AccuracyMetrics[],
  labels: readonly number[],
): CrossValidationMetrics {
  const k = folds.length;
  const mean = (f: (m: AccuracyMetrics) => number) => folds.reduce((a, m) => a + f(m), 0) / k;
  const accuracy = mean((m) => m.accuracy);
  return {
    folds: k,
    rows: labels.length,
    class_counts: classCounts(labels),
    accuracy,
    balanced_accuracy: mean((m) => m.balanced_accuracy),
    majority_baseline: mean((m) => m.majority_baseline),
    accuracy_std: Math.sqrt(mean((m) => (m.accuracy - accuracy) ** 2)),
    fold_accuracy: folds.map((m) => m.accuracy),
  };
}

/**
 * Stratified k-fold cross-validation: for each fold, fits a fresh vectorizer and classifier on the other
 * folds and scores the held-out fold.
 * @returns the {@link summarizeFolds} summary of the k held-out folds.
 */
export async function crossValidate(
  rows: readonly LabelledRow[],
  ctx: StageContext,
): Promise<CrossValidationMetrics> {
  const { folds: k, seed } = ctx.params.evaluate;
  const folds = stratifiedFolds(
    rows.map((r) => r.label),
    k,
    seed,
  );
  const foldMetrics: AccuracyMetrics[] = [];
  for (const [i, fold] of folds.entries()) {
    const held = new Set(fold);
    const trainRows = rows.filter((_, j) => !held.has(j));
    const testRows = fold.map((j) => rows[j]);
    const { predictor } = await fitPredictor(trainRows, ctx.params);
    foldMetrics.push(scoreSet(predictor, testRows));
    predictor.model.dispose();
    ctx.log.debug({ fold: i + 1, ...foldMetrics[i] }, 'cross-validation fold');
  }
  return summarizeFolds(
    foldMetrics,
    rows.map((r) => r.label),
  );
}

function scoreSet(predictor: Predictor, rows: readonly LabelledRow[]): AccuracyMetrics {
  return accuracyMetrics(
    rows.map((r) => r.label),
    scoreTexts(
      predictor,
      rows.map((r) => r.text),
    ),
  );
}

/** CSV text from a header and rows of numbers. */
function csv(header: string[], rows: ReadonlyArray<ReadonlyArray<number | string>>): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/**
 * Runs the evaluate stage.
 * @returns the metrics written to metrics.json.
 * @throws PipelineError when test accuracy is below evaluate.min_accuracy (after writing the metrics and
 *   the failed gate to reports/evaluated.json, so publish refuses this model), and likewise when a
 *   capability of the behavioural suite passes less than evaluate.behavioural.min_pass_rate; PipelineError, before
 *   writing anything, when evaluate.champion.version names no release or the champion cannot be loaded.
 */
export async function evaluate(ctx: StageContext): Promise<Metrics> {
  await initBackend();
  const trained = await readRecord<{ train_sha256: string }>(
    resolvePath(ctx, PATHS.training),
    'run the train stage first',
  );
  const trainSha256 = await fileSha256(resolvePath(ctx, PATHS.train), 'run the prepare stage first');
  requireSame(PATHS.train, trained.train_sha256, trainSha256, 'run the train stage before evaluate');
  const weightsSha256 = await fileSha256(
    path.join(resolvePath(ctx, PATHS.models), 'weights.bin'),
    'run the train stage first',
  );
  const predictor = await loadModelArtifacts(resolvePath(ctx, PATHS.models));
  const [train, test, fresh] = await Promise.all(
    [PATHS.train, PATHS.test, PATHS.fresh].map((p) => readJsonl(resolvePath(ctx, p))),
  );

  const testLabels = test.map((r) => r.label);
  const testScores = scoreTexts(
    predictor,
    test.map((r) => r.text),
  );
  const outOfDomain = {} as Metrics['out_of_domain'];
  for (const name of ['amazon', 'imdb'] as const) {
    const rows = (await readPackageDataset(name, 'drop')).rows;
    outOfDomain[name] = scoreSet(predictor, rows);
  }
  const noFresh = {
    rows: 0,
    class_counts: { negative: 0, positive: 0 },
    accuracy: null,
    balanced_accuracy: null,
    majority_baseline: null,
  };
  const metrics: Metrics = roundDeep({
    test: classificationMetrics(testLabels, testScores),
    cross_validation: await crossValidate([...train, ...test], ctx),
    fresh: fresh.length ? scoreSet(predictor, fresh) : noFresh,
    out_of_domain: outOfDomain,
  });
  metrics.champion = await compareWithChampion(ctx, predictor, { test, fresh });
  // The drift reference (score and OOV-rate bins on the test split) publish stores in the manifest.
  await writeDriftReference(ctx, predictor, { test, fresh }, weightsSha256);
  const behavioural = await runBehaviouralSuite(predictor, ctx.params.evaluate.behavioural.min_pass_rate);
  metrics.behavioural = roundDeep(behavioural.results);
  predictor.model.dispose();

  const predicted = Array.from(testScores, (s) => (s >= 0.5 ? 1 : 0));
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const metricsJson = JSON.stringify(metrics, null, 2) + '\n';
  const min = ctx.params.evaluate.min_accuracy;
  const record: EvaluatedRecord = {
    weights_sha256: weightsSha256,
    train_sha256: trainSha256,
    metrics_sha256: sha256Hex(Buffer.from(metricsJson)),
    gate: {
      metric: 'test.accuracy',
      accuracy: metrics.test.accuracy,
      min_accuracy: min,
      passed: metrics.test.accuracy >= min,
    },
    champion: championOutcome(metrics.champion),
    behavioural: behavioural.gate,
  };
  await writeFileAtomic(resolvePath(ctx, PATHS.metrics), metricsJson);
  await writeFileAtomic(resolvePath(ctx, PATHS.evaluated), JSON.stringify(record, null, 2) + '\n');
  await replaceDirAtomic(resolvePath(ctx, PATHS.plots), async (dir) => {
    const roc = rocCurve(testLabels, testScores).map((p) => [round(p.fpr), round(p.tpr), round(p.threshold)]);
    const pr = precisionRecallCurve(testLabels, testScores).map((p) => [
      round(p.recall),
      round(p.precision),
      round(p.threshold),
    ]);
    await writeFileAtomic(path.join(dir, 'roc.csv'), csv(['fpr', 'tpr', 'threshold'], roc));
    await writeFileAtomic(
      path.join(dir, 'precision_recall.csv'),
      csv(['recall', 'precision', 'threshold'], pr),
    );
    await writeFileAtomic(
      path.join(dir, 'confusion.csv'),
      csv(
        ['actual', 'predicted'],
        testLabels.map((y, i) => [y, predicted[i]]),
      ),
    );
  });
  const c = confusion(testLabels, predicted);
  ctx.log.info(
    {
      accuracy: metrics.test.accuracy,
      balancedAccuracy: metrics.test.balanced_accuracy,
      majorityBaseline: metrics.test.majority_baseline,
      f1: metrics.test.f1,
      rocAuc: metrics.test.roc_auc,
      cvAccuracy: metrics.cross_validation.accuracy,
      freshAccuracy: metrics.fresh.accuracy,
      freshBalancedAccuracy: metrics.fresh.balanced_accuracy,
      freshMajorityBaseline: metrics.fresh.majority_baseline,
      confusion: c,
      gate: record.gate,
    },
    'evaluated',
  );
  if (!record.gate.passed) throw new PipelineError(gateFailedMessage(record.gate));
  if (!behavioural.gate.passed) throw new PipelineError(behaviouralGateFailedMessage(behavioural.gate));
  return metrics;
}

if (isMain(import.meta.url)) await runStageCli('evaluate', (ctx) => evaluate(ctx).then(() => {}));
