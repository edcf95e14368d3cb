import { describe, expect, it } from '@jest/globals';
import {
  accuracy,
  classificationMetrics,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
  roundDeep,
} from '../src/evaluate/metrics.js';

const labels = [1, 1, 0, 1, 0, 0, 1, 0];
const scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];

describe('classification metrics', () => {
  it('computes exact scalar metrics at threshold 0.5', () => {
    // predicted: 1 1 1 1 0 0 0 0 → tp=3 fp=1 fn=1 tn=3
    expect(classificationMetrics(labels, scores)).toEqual({
      rows: 8,
      accuracy: 0.75,
      precision: 0.75,
      recall: 0.75,
      f1: 0.75,
      roc_auc: 0.75,
      confusion_matrix: { tn: 3, fp: 1, fn: 1, tp: 3 },
    });
    expect(accuracy(labels, scores)).toBe(0.75);
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
});
