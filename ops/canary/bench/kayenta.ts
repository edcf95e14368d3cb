/**
 * A Kayenta-style canary analysis (Spinnaker's default judge, NetflixACAJudge), for comparison in
 * `npm run bench:canary`.
 *
 * Sources, all in spinnaker/kayenta unless noted:
 * - kayenta-judge NetflixACAJudge.scala: per metric, NaNs removed, outliers removed by
 *   `IQRDetector(factor = 3.0, reduceSensitivity = true)`, then
 *   `MannWhitneyClassifier(tolerance = 0.25, confLevel = 0.98, effectSizeThresholds)` with the default
 *   effect sizes `allowedIncrease = allowedDecrease = 1.0`;
 * - kayenta-judge detectors/IQRDetector.scala: fences Q1 − f·IQR and Q3 + f·IQR, widened to the 1st and
 *   99th percentiles when `reduceSensitivity`;
 * - kayenta-judge classifiers/metric/MannWhitneyClassifier.scala: Nodata when a side is empty, Pass when
 *   both sides hold the same values or one value in all; otherwise High when the confidence interval's
 *   lower end exceeds `tolerance`·|estimate| and mean(canary)/mean(baseline) ≥ allowedIncrease (Low
 *   mirrored, for direction `decrease`/`either`);
 * - kayenta-mannwhitney MannWhitney.scala: the interval and estimate invert R's asymptotic
 *   `wilcox.test(conf.int = TRUE)` (ranks with average ties, continuity correction sign(dz)·0.5,
 *   tie-corrected variance), root-searched between min(x) − max(y) and max(x) − min(y);
 * - kayenta-judge scorers/WeightedSumScorer.scala: a group's score is 100·Pass/(Pass+High+Low); the canary
 *   score is the weight-averaged group score (groups without weights share what is left of 100 equally);
 * - spinnaker/orca kayenta MonitorKayentaCanaryTask / AggregateCanaryResultsTask: a run whose score is at or
 *   below `marginal` fails the stage at once; the last run's score must reach `pass`. Spinnaker's docs
 *   (spinnaker.io, "Add a canary stage to a pipeline") describe the growing lookback used here: each run
 *   judges all data since the start of the analysis.
 *
 * Metrics: per-minute 5xx share and per-minute p95 latency (`histogram_quantile(0.95, ...)` over the
 * minute's buckets), each in its own group, both with direction `increase`; score thresholds pass 95,
 * marginal 75.
 *
 * Simplified: roots are found by bisection to Kayenta's solver accuracy instead of Brent's method (same
 * bracket; the estimate can land elsewhere inside a flat zero of the statistic); the tiny Gaussian noise
 * Kayenta adds when both sides are constant is left out; percentiles use Apache Commons Math's default
 * (legacy) estimator, which Kayenta's DescriptiveStatistics is taken to match.
 */
import { normalQuantile } from '../src/stats/normal.js';
import { histogramQuantile, type MinuteCounts } from './traffic.js';

/** Settings of the Kayenta-style analysis. */
export interface KayentaConfig {
  /** Minutes between canary runs (judgments); Spinnaker recommends at least 30. */
  intervalMinutes: number;
  /** Two-sided confidence level of the Mann–Whitney interval. */
  confLevel: number;
  /** Fraction of |estimate| the interval must clear. */
  tolerance: number;
  /** Minimum mean ratio canary/baseline for High (`effectSize.allowedIncrease`). */
  allowedIncrease: number;
  /** Outlier fence factor of the IQR detector. */
  outlierFactor: number;
  passScore: number;
  marginalScore: number;
}

/** NetflixACAJudge's hard-coded values and the usual score thresholds; 30-minute runs. */
export const KAYENTA_DEFAULT_CONFIG: KayentaConfig = {
  intervalMinutes: 30,
  confLevel: 0.98,
  tolerance: 0.25,
  allowedIncrease: 1,
  outlierFactor: 3,
  passScore: 95,
  marginalScore: 75,
};

/** Kayenta's metric classifications. */
export type KayentaClassification = 'Pass' | 'High' | 'Low' | 'Nodata' | 'Error';

/**
 * Percentile with Apache Commons Math's default (LEGACY) estimator: position p(n+1)/100, linear
 * interpolation, clamped to the extremes.
 * @param sorted ascending values (length ≥ 1).
 * @param p percentile in (0, 100].
 */
export function percentile(sorted: number[], p: number): number {
  const n = sorted.length;
  if (n === 1) return sorted[0];
  const pos = (p * (n + 1)) / 100;
  if (pos < 1) return sorted[0];
  if (pos >= n) return sorted[n - 1];
  const lower = Math.floor(pos);
  return sorted[lower - 1] + (pos - lower) * (sorted[lower] - sorted[lower - 1]);
}

/**
 * Kayenta's IQRDetector with `reduceSensitivity`: keeps the values inside
 * [min(P1, Q1 − f·IQR), max(P99, Q3 + f·IQR)].
 * @returns the kept values, in their original order.
 */
export function removeOutliers(values: number[], factor: number): number[] {
  if (values.length === 0) return values;
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = percentile(sorted, 25);
  const q3 = percentile(sorted, 75);
  const iqr = q3 - q1;
  const lower = Math.min(percentile(sorted, 1), q1 - factor * iqr);
  const upper = Math.max(percentile(sorted, 99), q3 + factor * iqr);
  return values.filter((v) => !(v > upper || v < lower));
}

/**
 * The asymptotic Wilcoxon statistic of R's `wilcox.test` CI inversion at shift `mu`:
 * (dz − sign(dz)/2) / sigma, with dz = Σ ranks(x − mu) − nx(nx+1)/2 − nx·ny/2 over the pooled sample.
 * @param x experiment (canary) values, ascending.
 * @param y control (baseline) values, ascending.
 * @throws Error when every pooled value is tied (sigma = 0), as Kayenta does.
 */
export function wilcoxonZ(x: number[], y: number[], mu: number): number {
  const nx = x.length;
  const ny = y.length;
  let i = 0;
  let j = 0;
  let position = 0;
  let rankSumX = 0;
  let ties = 0;
  while (i < nx || j < ny) {
    const value = i < nx && (j >= ny || x[i] - mu <= y[j]) ? x[i] - mu : y[j];
    let cx = 0;
    let cy = 0;
    while (i < nx && x[i] - mu === value) {
      cx++;
      i++;
    }
    while (j < ny && y[j] === value) {
      cy++;
      j++;
    }
    const c = cx + cy;
    rankSumX += cx * (position + (c + 1) / 2);
    ties += c * c * c - c;
    position += c;
  }
  const dz = rankSumX - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
  const n = nx + ny;
  const sigma = Math.sqrt(((nx * ny) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (sigma === 0) throw new Error('cannot compute confidence interval when all observations are tied');
  return (dz - Math.sign(dz) * 0.5) / sigma;
}

/** Root of the non-increasing step function wilcoxonZ(mu) − q in [muMin, muMax], as Kayenta brackets it. */
function findShift(x: number[], y: number[], q: number, muMin: number, muMax: number): number {
  const f = (mu: number) => wilcoxonZ(x, y, mu) - q;
  if (f(muMin) <= 0) return muMin;
  if (f(muMax) >= 0) return muMax;
  let lo = muMin;
  let hi = muMax;
  // Kayenta's BracketingNthOrderBrentSolver stops at an absolute accuracy of 1e-6.
  for (let k = 0; k < 1000 && hi - lo > 1e-6; k++) {
    const mid = (lo + hi) / 2;
    const value = f(mid);
    if (value === 0) return mid;
    if (value > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mann–Whitney shift of experiment over control: confidence interval and estimate. */
export interface MannWhitneyShift {
  lower: number;
  upper: number;
  estimate: number;
}

/**
 * Kayenta's MannWhitney.eval: R's asymptotic confidence interval and estimate of the location shift
 * experiment − control.
 * @param experiment canary values (length ≥ 1).
 * @param control baseline values (length ≥ 1).
 * @param confLevel two-sided level, e.g. 0.98.
 * @throws Error when all pooled values are tied.
 */
export function mannWhitneyShift(
  experiment: number[],
  control: number[],
  confLevel: number,
): MannWhitneyShift {
  const x = [...experiment].sort((a, b) => a - b);
  const y = [...control].sort((a, b) => a - b);
  const muMin = x[0] - y[y.length - 1];
  const muMax = x[x.length - 1] - y[0];
  const zq = normalQuantile((1 - confLevel) / 2);
  return {
    lower: findShift(x, y, -zq, muMin, muMax),
    upper: findShift(x, y, zq, muMin, muMax),
    estimate: findShift(x, y, 0, muMin, muMax),
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * NetflixACAJudge's classification of one metric with direction `increase` (only High fails).
 * @param control baseline values per minute (NaN = no data, removed).
 * @param experiment canary values per minute (NaN removed).
 */
export function classifyMetric(
  control: number[],
  experiment: number[],
  config: KayentaConfig,
): KayentaClassification {
  const c = removeOutliers(
    control.filter((v) => !Number.isNaN(v)),
    config.outlierFactor,
  );
  const e = removeOutliers(
    experiment.filter((v) => !Number.isNaN(v)),
    config.outlierFactor,
  );
  if (c.length === 0 || e.length === 0) return 'Nodata';
  const cs = [...c].sort((a, b) => a - b);
  const es = [...e].sort((a, b) => a - b);
  if (cs.length === es.length && cs.every((v, k) => v === es[k])) return 'Pass';
  if (new Set([...c, ...e]).size === 1) return 'Pass';
  let shift: MannWhitneyShift;
  try {
    shift = mannWhitneyShift(e, c, config.confLevel);
  } catch {
    return 'Error';
  }
  const bound = config.tolerance * Math.abs(shift.estimate);
  const deviation = mean(c) === 0 ? 1 : mean(e) / mean(c);
  if (shift.lower > bound && deviation >= config.allowedIncrease) return 'High';
  return 'Pass';
}

/**
 * WeightedSumScorer with one metric per group and no group weights (each group gets 100/groups).
 * @returns 0–100; groups classified Nodata or Error carry no score but keep their share of the weight.
 */
export function canaryScore(classifications: KayentaClassification[]): number {
  const weight = 100 / classifications.length;
  let score = 0;
  for (const c of classifications) {
    if (c === 'Pass') score += weight;
  }
  return score;
}

/** The per-minute values Kayenta would read from Prometheus for one version. */
export function perMinuteValues(
  minutes: MinuteCounts[],
  buckets: number[],
): { errorRate: number[]; p95: number[] } {
  return {
    errorRate: minutes.map((m) => (m.requests === 0 ? NaN : m.errors / m.requests)),
    p95: minutes.map((m) => histogramQuantile(0.95, buckets, m.latency)),
  };
}

/** One Kayenta run (judgment) over the minutes so far. */
export interface KayentaRun {
  errorRate: KayentaClassification;
  latencyP95: KayentaClassification;
  score: number;
}

/**
 * Judges all minutes since the start (growing lookback).
 * @param stable baseline minutes, oldest first.
 * @param canary canary minutes, same length.
 */
export function kayentaRun(
  stable: MinuteCounts[],
  canary: MinuteCounts[],
  buckets: number[],
  config: KayentaConfig,
): KayentaRun {
  const s = perMinuteValues(stable, buckets);
  const c = perMinuteValues(canary, buckets);
  const errorRate = classifyMetric(s.errorRate, c.errorRate, config);
  const latencyP95 = classifyMetric(s.p95, c.p95, config);
  return { errorRate, latencyP95, score: canaryScore([errorRate, latencyP95]) };
}

/**
 * The stage's verdict after a run: a score at or below `marginal` fails at once; the last run must reach
 * `pass`.
 */
export function kayentaStageFails(score: number, lastRun: boolean, config: KayentaConfig): boolean {
  return score <= config.marginalScore || (lastRun && score < config.passScore);
}
