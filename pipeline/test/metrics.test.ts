import { describe, expect, it } from '@jest/globals';
import {
  accuracy,
  accuracyMetrics,
  balancedAccuracy,
  classificationMetrics,
  majorityBaseline,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
  roundDeep,
} from '../src/evaluate/metrics.js';
import { summarizeFolds } from '../src/stages/evaluate.js';

const labels = [1, 1, 0, 1, 0, 0, 1, 0];
const scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];

describe('classification metrics', () => {
  it('computes exact scalar metrics at threshold 0.5', () => {
    // predicted: 1 1 1 1 0 0 0 0 → tp=3 fp=1 fn=1 tn=3
    expect(classificationMetrics(labels, scores)).toEqual({
      rows: 8,
      class_counts: { negative: 4, positive: 4 },
      accuracy: 0.75,
      balanced_accuracy: 0.75,
      majority_baseline: 0.5,
      precision: 0.75,
      recall: 0.75,
      f1: 0.75,
      roc_auc: 0.75,
      confusion_matrix: { tn: 3, fp: 1, fn: 1, tp: 3 },
    });
    expect(accuracy(labels, scores)).toBe(0.75);
  });

  it('puts balanced accuracy and the majority-class baseline next to accuracy', () => {
    // The fresh set: 96 negative, 4 positive. Always answering negative scores 0.96 accuracy,
    // 0.5 balanced accuracy.
    const fresh = [...Array<number>(96).fill(0), 1, 1, 1, 1];
    expect(accuracyMetrics(fresh, new Array<number>(100).fill(0.1))).toEqual({
      rows: 100,
      class_counts: { negative: 96, positive: 4 },
      accuracy: 0.96,
      balanced_accuracy: 0.5,
      majority_baseline: 0.96,
    });
    // 88 right: 86 of 96 negatives (TNR 86/96), 2 of 4 positives (TPR 0.5).
    const scores = fresh.map((y, i) => (y === 1 ? (i < 98 ? 0.9 : 0.1) : i < 86 ? 0.1 : 0.9));
    const m = accuracyMetrics(fresh, scores);
    expect(m.accuracy).toBe(0.88);
    expect(m.balanced_accuracy).toBe((86 / 96 + 0.5) / 2);
    expect(m.majority_baseline).toBe(0.96);
    expect(balancedAccuracy({ tn: 3, fp: 1, fn: 2, tp: 2 })).toBe(0.625);
    // Only one class present: the mean over the classes present (scikit-learn's behaviour).
    expect(balancedAccuracy({ tn: 3, fp: 1, fn: 0, tp: 0 })).toBe(0.75);
    expect(balancedAccuracy({ tn: 0, fp: 0, fn: 0, tp: 0 })).toBe(0);
    expect(majorityBaseline([1, 1, 0])).toBe(2 / 3);
    expect(majorityBaseline([])).toBe(0);
  });

  it('computes ROC AUC with ties as one half', () => {
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNull();
  });

  it('returns 0 for empty denominators', () => {
    const m = classificationMetrics([0, 0], [0.1, 0.2]);
    expect(m.precision).toBe(0);
    expect(m.recall).toBe(0);
    expect(m.f1).toBe(0);
    expect(m.accuracy).toBe(1);
  });

  it('builds exact ROC and precision-recall curves', () => {
    expect(rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toEqual([
      { fpr: 0, tpr: 0, threshold: 1 },
      { fpr: 0, tpr: 0.5, threshold: 0.8 },
      { fpr: 0.5, tpr: 0.5, threshold: 0.4 },
      { fpr: 0.5, tpr: 1, threshold: 0.35 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
    expect(precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toEqual([
      { recall: 0.5, precision: 1, threshold: 0.8 },
      { recall: 0.5, precision: 0.5, threshold: 0.4 },
      { recall: 1, precision: 2 / 3, threshold: 0.35 },
      { recall: 1, precision: 0.5, threshold: 0.1 },
    ]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => classificationMetrics([1, 0], [0.5])).toThrow('2 labels but 1 predictions');
  });

  it('rounds nested numbers', () => {
    expect(roundDeep({ a: 2 / 3, b: [1 / 3, null], c: 'x' }, 3)).toEqual({
      a: 0.667,
      b: [0.333, null],
      c: 'x',
    });
  });

  it('summarizes cross-validation folds as means, with the fold accuracies', () => {
    const folds = [
      accuracyMetrics([0, 0, 0, 1], [0.1, 0.1, 0.9, 0.9]), // acc 0.75, balanced 5/6, baseline 0.75
      accuracyMetrics([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]), // acc 0.75, balanced 5/6, baseline 0.75
      accuracyMetrics([0, 0, 1, 1], [0.9, 0.9, 0.9, 0.9]), // acc 0.5, balanced 0.5, baseline 0.5
    ];
    expect(roundDeep(summarizeFolds(folds, [0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1]))).toEqual({
      folds: 3,
      rows: 12,
      class_counts: { negative: 6, positive: 6 },
      accuracy: 0.666667,
      balanced_accuracy: 0.722222,
      majority_baseline: 0.666667,
      accuracy_std: 0.117851,
      fold_accuracy: [0.75, 0.75, 0.5],
    });
  });
});
