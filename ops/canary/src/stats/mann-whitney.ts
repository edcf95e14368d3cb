/**
 * The Mann–Whitney U test on two bucketed latency distributions (Prometheus histograms), where every
 * bucket is one group of tied values.
 */
import { checkCount } from './checks.js';
import { normalCdf } from './normal.js';

/**
 * A cumulative histogram as Prometheus exposes it (`_bucket{le=…}`): `counts[i]` observations were
 * ≤ `le[i]`. Same shape as the judge's LatencyHistogram.
 */
export interface CumulativeHistogram {
  /** Upper bounds, ascending (seconds for latency; the last is usually Infinity). */
  le: number[];
  /** Cumulative counts, same length as `le`, non-decreasing, each ≥ 0. */
  counts: number[];
}

/**
 * The number of observations in each bucket of a cumulative histogram: `counts[0]`, then
 * `counts[i] − counts[i − 1]`.
 *
 * @param name names the histogram in error messages ("stable", "canary").
 * @returns one count per bucket (length `le.length`).
 * @throws RangeError when le and counts differ in length, le is not strictly ascending or has NaN, or a
 *   count is negative, NaN, infinite or smaller than the one before it.
 */
export function bucketCounts(name: string, histogram: CumulativeHistogram): number[] {
  const { le, counts } = histogram;
  if (!Array.isArray(le) || !Array.isArray(counts) || le.length !== counts.length) {
    throw new RangeError(
      `${name} histogram: le and counts must be arrays of the same length, got ${le?.length} and ${counts?.length}`,
    );
  }
  const buckets: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    if (typeof le[i] !== 'number' || Number.isNaN(le[i]) || (i > 0 && !(le[i] > le[i - 1]))) {
      throw new RangeError(`${name} histogram: le must be strictly ascending numbers, got ${le.join(', ')}`);
    }
    checkCount(`${name} histogram counts[${i}]`, counts[i]);
    const previous = i === 0 ? 0 : counts[i - 1];
    if (counts[i] < previous) {
      throw new RangeError(
        `${name} histogram: cumulative counts must not decrease, got ${counts[i]} at le=${le[i]} after ${previous}`,
      );
    }
    buckets.push(counts[i] - previous);
  }
  return buckets;
}

/** The Mann–Whitney test of canary vs stable. */
export interface MannWhitneyResult {
  /**
   * U of the canary: the number of (canary, stable) pairs in which the canary observation is larger,
   * ties counted ½ (what SciPy's `mannwhitneyu(canary, stable).statistic` returns).
   */
  u: number;
  /** u / (n_canary · n_stable) = P(canary > stable) + P(tie)/2; 0.5 when neither tends to be larger. */
  auc: number;
  /** (u − n_c n_s / 2) / √varianceU, signed (> 0: the canary tends to be larger); 0 when varianceU = 0. */
  z: number;
  /** Two-sided asymptotic p-value 2Φ(−|z|), no continuity correction; 1 when varianceU = 0. */
  pValue: number;
  /** Variance of U under H0 with the tie correction (0 when every observation is in one bucket). */
  varianceU: number;
  /** Observations of the stable and canary histograms. */
  nStable: number;
  nCanary: number;
}

/**
 * Mann–Whitney U of the canary against stable on bucketed data, each bucket a group of ties:
 * U = Σ_b c_b (S_<b + s_b / 2) with c_b, s_b the canary and stable counts in bucket b and S_<b the stable
 * count in faster buckets; under H0, E[U] = n_c n_s / 2 and
 * Var U = n_c n_s / 12 · ( (N + 1) − Σ_b (t_b³ − t_b) / (N (N − 1)) ), t_b = c_b + s_b, N = n_c + n_s
 * (the tie-corrected variance: E. L. Lehmann, Nonparametrics: Statistical Methods Based on Ranks, 1975,
 * ch. 1, on ties; the same as SciPy's `mannwhitneyu(..., method='asymptotic', use_continuity=False)`).
 *
 * @param stable cumulative histogram of the stable version.
 * @param canary cumulative histogram of the canary, with the same `le` as stable.
 * @throws RangeError when a histogram is malformed (see {@link bucketCounts}), the two have different
 *   bounds, or either holds no observation.
 */
export function mannWhitneyBucketed(
  stable: CumulativeHistogram,
  canary: CumulativeHistogram,
): MannWhitneyResult {
  const s = bucketCounts('stable', stable);
  const c = bucketCounts('canary', canary);
  if (s.length !== c.length || stable.le.some((bound, i) => bound !== canary.le[i])) {
    throw new RangeError(
      `stable and canary histograms must have the same bounds, got [${stable.le.join(', ')}] and [${canary.le.join(', ')}]`,
    );
  }
  const nStable = s.reduce((a, b) => a + b, 0);
  const nCanary = c.reduce((a, b) => a + b, 0);
  if (nStable === 0 || nCanary === 0) {
    throw new RangeError(
      `the rank test needs observations in both histograms, got stable ${nStable}, canary ${nCanary}`,
    );
  }
  let u = 0;
  let stableBelow = 0;
  let tieTerm = 0;
  for (let b = 0; b < s.length; b++) {
    u += c[b] * (stableBelow + s[b] / 2);
    stableBelow += s[b];
    const t = c[b] + s[b];
    tieTerm += t * t * t - t;
  }
  const n = nStable + nCanary;
  const product = nStable * nCanary;
  const varianceU = Math.max(0, (product / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = varianceU > 0 ? (u - product / 2) / Math.sqrt(varianceU) : 0;
  return {
    u,
    auc: u / product,
    z,
    pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))),
    varianceU,
    nStable,
    nCanary,
  };
}
