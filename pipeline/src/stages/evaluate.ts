/**
 * Stage 3, evaluate: scores the trained model on the held-out test split (accuracy, precision, recall,
 * F1, ROC AUC, confusion matrix), runs stratified k-fold cross-validation on the historic rows (train +
 * test splits), and measures accuracy on the fresh rows and on two out-of-domain sets (Amazon and IMDb
 * sentences of the same UCI collection). Writes metrics.json and the plot data under reports/plots/, then
 * applies the gate `evaluate.min_accuracy` to the test accuracy.
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
import { readPackageDataset } from '../data/raw.js';
import { PipelineError } from '../errors.js';
import {
  accuracy,
  classificationMetrics,
  confusion,
  precisionRecallCurve,
  rocCurve,
  roundDeep,
  type ClassificationMetrics,
} from '../evaluate/metrics.js';
import { fileSha256, readRecord, requireSame } from '../lineage.js';
import { fitPredictor } from '../model/fit.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';

/** Contents of metrics.json. */
export interface Metrics {
  test: ClassificationMetrics;
  cross_validation: {
    folds: number;
    rows: number;
    accuracy: number;
    accuracy_std: number;
    fold_accuracy: number[];
  };
  fresh: { rows: number; accuracy: number | null };
  out_of_domain: Record<'amazon' | 'imdb', { rows: number; accuracy: number }>;
}

/**
 * Stratified k-fold cross-validated accuracy: for each fold, fits a fresh vectorizer and classifier on
 * the other folds and scores the held-out fold.
 * @returns mean and (population) standard deviation of the k fold accuracies, and each fold's.
 */
export async function crossValidate(
  rows: readonly LabelledRow[],
  ctx: StageContext,
): Promise<Metrics['cross_validation']> {
  const { folds: k, seed } = ctx.params.evaluate;
  const folds = stratifiedFolds(
    rows.map((r) => r.label),
    k,
    seed,
  );
  const foldAccuracy: number[] = [];
  for (const [i, fold] of folds.entries()) {
    const held = new Set(fold);
    const trainRows = rows.filter((_, j) => !held.has(j));
    const testRows = fold.map((j) => rows[j]);
    const { predictor } = await fitPredictor(trainRows, ctx.params);
    foldAccuracy.push(scoreAccuracy(predictor, testRows));
    predictor.model.dispose();
    ctx.log.debug({ fold: i + 1, accuracy: foldAccuracy[i] }, 'cross-validation fold');
  }
  const mean = foldAccuracy.reduce((a, b) => a + b, 0) / k;
  const std = Math.sqrt(foldAccuracy.reduce((a, b) => a + (b - mean) ** 2, 0) / k);
  return { folds: k, rows: rows.length, accuracy: mean, accuracy_std: std, fold_accuracy: foldAccuracy };
}

function scoreAccuracy(predictor: Predictor, rows: readonly LabelledRow[]): number {
  return accuracy(
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
 * @throws PipelineError when test accuracy is below evaluate.min_accuracy (after writing the metrics).
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
    outOfDomain[name] = { rows: rows.length, accuracy: scoreAccuracy(predictor, rows) };
  }
  const metrics: Metrics = roundDeep({
    test: classificationMetrics(testLabels, testScores),
    cross_validation: await crossValidate([...train, ...test], ctx),
    fresh: { rows: fresh.length, accuracy: fresh.length ? scoreAccuracy(predictor, fresh) : null },
    out_of_domain: outOfDomain,
  });
  predictor.model.dispose();

  const predicted = Array.from(testScores, (s) => (s >= 0.5 ? 1 : 0));
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  await writeFileAtomic(resolvePath(ctx, PATHS.metrics), JSON.stringify(metrics, null, 2) + '\n');
  await writeFileAtomic(
    resolvePath(ctx, PATHS.evaluated),
    JSON.stringify({ weights_sha256: weightsSha256, train_sha256: trainSha256 }, null, 2) + '\n',
  );
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
      f1: metrics.test.f1,
      rocAuc: metrics.test.roc_auc,
      cvAccuracy: metrics.cross_validation.accuracy,
      freshAccuracy: metrics.fresh.accuracy,
      confusion: c,
    },
    'evaluated',
  );
  const min = ctx.params.evaluate.min_accuracy;
  if (metrics.test.accuracy < min) {
    throw new PipelineError(
      `gate failed: test accuracy ${metrics.test.accuracy} is below evaluate.min_accuracy ${min}; the model is not published`,
    );
  }
  return metrics;
}

if (isMain(import.meta.url)) await runStageCli('evaluate', (ctx) => evaluate(ctx).then(() => {}));
