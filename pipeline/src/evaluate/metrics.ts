/**
 * Binary classification metrics. Labels are 0/1, scores are positive-class probabilities, and a score
 * ≥ threshold (0.5) predicts the positive class. Definitions follow scikit-learn's conventions: a
 * precision/recall/F1 with an empty denominator is 0.
 */

/** Confusion matrix counts (positive class = 1). */
export interface Confusion {
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

/** Rows per class of a labelled set. */
export interface ClassCounts {
  negative: number;
  positive: number;
}

/**
 * Accuracy with the two figures that say what it is worth on this set: balanced accuracy and the
 * majority-class baseline (see {@link balancedAccuracy} and {@link majorityBaseline}).
 */
export interface AccuracyMetrics {
  rows: number;
  class_counts: ClassCounts;
  accuracy: number;
  balanced_accuracy: number;
  majority_baseline: number;
}

/** Scalar metrics of one labelled set. */
export interface ClassificationMetrics extends AccuracyMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Area under the ROC curve; null when only one class is present. */
  roc_auc: number | null;
  confusion_matrix: Confusion;
}

/** One point of a curve, with the score threshold that gives it. */
export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}
export interface PrPoint {
  recall: number;
  precision: number;
  threshold: number;
}

function assertSameLength(labels: readonly number[], other: ArrayLike<number>): void {
  if (labels.length !== other.length) {
    throw new Error(`metrics: ${labels.length} labels but ${other.length} predictions`);
  }
}

/**
 * Confusion matrix of predicted labels.
 * @param labels true labels (length n); predicted: predicted labels (length n).
 */
export function confusion(labels: readonly number[], predicted: ArrayLike<number>): Confusion {
  assertSameLength(labels, predicted);
  const c: Confusion = { tn: 0, fp: 0, fn: 0, tp: 0 };
  labels.forEach((y, i) => {
    const p = predicted[i];
    if (y === 1) {
      if (p === 1) c.tp++;
      else c.fn++;
    } else if (p === 1) c.fp++;
    else c.tn++;
  });
  return c;
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/**
 * ROC AUC as the Mann–Whitney U statistic: the probability that a random positive scores above a random
 * negative, ties counting one half (Hanley & McNeil, Radiology 1982).
 * @returns a number in [0, 1], or null when labels hold a single class.
 */
export function rocAuc(labels: readonly number[], scores: ArrayLike<number>): number | null {
  assertSameLength(labels, scores);
  const order = Array.from(labels.keys()).sort((a, b) => scores[a] - scores[b]);
  // Average ranks (1-based) with ties sharing the mean rank.
  const ranks = new Array<number>(labels.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  const nPos = labels.filter((y) => y === 1).length;
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const rankSum = labels.reduce((sum, y, i) => (y === 1 ? sum + ranks[i] : sum), 0);
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Distinct scores, descending: the thresholds at which a curve changes. */
function thresholds(scores: ArrayLike<number>): number[] {
  return [...new Set(Array.from(scores))].sort((a, b) => b - a);
}

/**
 * ROC curve: for each distinct score t (descending), the rates when predicting positive for score ≥ t;
 * the first point (0, 0) carries threshold 1 (nothing predicted positive above the top score).
 * @returns points from (0, 0) to (1, 1), fpr non-decreasing.
 */
export function rocCurve(labels: readonly number[], scores: ArrayLike<number>): RocPoint[] {
  assertSameLength(labels, scores);
  const nPos = labels.filter((y) => y === 1).length;
  const nNeg = labels.length - nPos;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: 1 }];
  for (const t of thresholds(scores)) {
    let tp = 0;
    let fp = 0;
    labels.forEach((y, i) => {
      if (scores[i] >= t) {
        if (y === 1) tp++;
        else fp++;
      }
    });
    points.push({ fpr: ratio(fp, nNeg), tpr: ratio(tp, nPos), threshold: t });
  }
  return points;
}

/**
 * Precision–recall curve: for each distinct score t (descending), precision and recall when predicting
 * positive for score ≥ t.
 * @returns points in order of increasing recall.
 */
export function precisionRecallCurve(labels: readonly number[], scores: ArrayLike<number>): PrPoint[] {
  assertSameLength(labels, scores);
  const nPos = labels.filter((y) => y === 1).length;
  return thresholds(scores).map((t) => {
    let tp = 0;
    let predicted = 0;
    labels.forEach((y, i) => {
      if (scores[i] >= t) {
        predicted++;
        if (y === 1) tp++;
      }
    });
    return { recall: ratio(tp, nPos), precision: ratio(tp, predicted), threshold: t };
  });
}

/** Class counts of 0/1 labels. */
export function classCounts(labels: readonly number[]): ClassCounts {
  const positive = labels.filter((y) => y === 1).length;
  return { negative: labels.length - positive, positive };
}

/**
 * Balanced accuracy: the mean of the per-class recalls, (TPR + TNR) / 2, averaged over the classes present
 * in the labels (Brodersen et al., ICPR 2010; scikit-learn's `balanced_accuracy_score`). A constant
 * prediction scores 0.5 on a set with both classes, whatever their proportions.
 * @returns a number in [0, 1]; 0 for an empty set.
 */
export function balancedAccuracy(c: Confusion): number {
  const recalls: number[] = [];
  if (c.tp + c.fn > 0) recalls.push(c.tp / (c.tp + c.fn));
  if (c.tn + c.fp > 0) recalls.push(c.tn / (c.tn + c.fp));
  return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0;
}

/**
 * Majority-class baseline accuracy: the accuracy of always answering the set's most frequent class,
 * max(negative, positive) / rows. An accuracy at or below it says the model does no better than a
 * constant on this set.
 * @returns a number in [0.5, 1] (0 for an empty set).
 */
export function majorityBaseline(labels: readonly number[]): number {
  const { negative, positive } = classCounts(labels);
  return ratio(Math.max(negative, positive), labels.length);
}

/**
 * Accuracy, balanced accuracy and the majority-class baseline of a labelled set.
 * @param labels n true labels; scores: n positive-class probabilities.
 * @param threshold decision threshold (default 0.5).
 */
export function accuracyMetrics(
  labels: readonly number[],
  scores: ArrayLike<number>,
  threshold = 0.5,
): AccuracyMetrics {
  const c = confusion(
    labels,
    Array.from(scores, (s) => (s >= threshold ? 1 : 0)),
  );
  return {
    rows: labels.length,
    class_counts: classCounts(labels),
    accuracy: ratio(c.tp + c.tn, labels.length),
    balanced_accuracy: balancedAccuracy(c),
    majority_baseline: majorityBaseline(labels),
  };
}

/**
 * All scalar metrics of a labelled set.
 * @param labels n true labels; scores: n positive-class probabilities.
 * @param threshold decision threshold (default 0.5).
 */
export function classificationMetrics(
  labels: readonly number[],
  scores: ArrayLike<number>,
  threshold = 0.5,
): ClassificationMetrics {
  const predicted = Array.from(scores, (s) => (s >= threshold ? 1 : 0));
  const c = confusion(labels, predicted);
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  return {
    ...accuracyMetrics(labels, scores, threshold),
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    roc_auc: rocAuc(labels, scores),
    confusion_matrix: c,
  };
}

/** Accuracy of scores against labels at a threshold (0.5 default). */
export function accuracy(labels: readonly number[], scores: ArrayLike<number>, threshold = 0.5): number {
  assertSameLength(labels, scores);
  return ratio(labels.filter((y, i) => (scores[i] >= threshold ? 1 : 0) === y).length, labels.length);
}

/** Rounds every number in a JSON-like value to `digits` decimals (for stable, readable metrics files). */
export function roundDeep<T>(value: T, digits = 6): T {
  const f = 10 ** digits;
  if (typeof value === 'number') return (Number.isFinite(value) ? Math.round(value * f) / f : value) as T;
  if (Array.isArray(value)) return value.map((v) => roundDeep(v, digits)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v, digits)])) as T;
  }
  return value;
}
