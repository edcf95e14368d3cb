/**
 * Proportions: the Wilson score interval of one proportion, the difference of two proportions with its
 * variance, and the sample size a two-proportion comparison needs.
 */
import { checkEvents, checkOpenUnit, checkShare } from './checks.js';
import { normalQuantile } from './normal.js';

/** Events `x` out of `n` trials (counts ≥ 0, x ≤ n; fractions allowed, see checkCount). */
export interface Proportion {
  x: number;
  n: number;
}

/**
 * Wilson score interval of the proportion x/n at confidence 1 − alpha (two-sided):
 * centre (2x + z²) / (2(n + z²)), half-width z·√(z² + 4x(n − x)/n) / (2(n + z²)), z = Φ⁻¹(1 − alpha/2).
 * Source: E. B. Wilson, "Probable inference, the law of succession, and statistical inference", JASA
 * 22 (1927) 209–212, in the form of R. G. Newcombe, Statistics in Medicine 17 (1998) 857–872, method 3
 * (the form SciPy's `binomtest(x, n).proportion_ci(method='wilson')` computes).
 *
 * @param x events, 0 ≤ x ≤ n.
 * @param n trials; n = 0 gives the uninformative [0, 1].
 * @param alpha 1 − confidence level, in (0, 1).
 * @returns [lower, upper], within [0, 1].
 * @throws RangeError on a negative, NaN or infinite count, x > n, or alpha outside (0, 1).
 */
export function wilsonInterval(x: number, n: number, alpha: number): [number, number] {
  checkEvents('proportion', x, n);
  checkOpenUnit('alpha', alpha);
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - alpha / 2);
  const z2 = z * z;
  const denominator = 2 * (n + z2);
  const centre = (2 * x + z2) / denominator;
  const halfWidth = (z * Math.sqrt(z2 + (4 * x * (n - x)) / n)) / denominator;
  return [Math.max(0, centre - halfWidth), Math.min(1, centre + halfWidth)];
}

/** A difference of two proportions and the variance of that estimate. */
export interface DifferenceOfProportions {
  /** canary.x / canary.n − stable.x / stable.n (the observed difference, not shrunk). */
  estimate: number;
  /** Estimated variance of `estimate` (always > 0, see {@link differenceOfProportions}). */
  variance: number;
}

/**
 * Canary minus stable proportion, with the variance the always-valid tests use.
 *
 * The estimate is the plain difference of the observed shares. The variance is the plug-in (Wald)
 * variance p(1 − p)/n of each arm, with p and n taken after adding one event and one non-event to the
 * arm: p̃ = (x + 1)/(n + 2), variance p̃(1 − p̃)/(n + 2) — the adjustment of A. Agresti & B. Caffo,
 * "Simple and effective confidence intervals for proportions and differences of proportions result from
 * adding two successes and two failures", The American Statistician 54 (2000) 280–288. It is the
 * small-count guard: an arm with 0 errors (or only errors) still has a variance > 0, so zero observed
 * events never look like certainty; for large n it equals the plain plug-in variance up to O(1/n²).
 *
 * @param stable events and trials of the stable version (n > 0).
 * @param canary events and trials of the canary (n > 0).
 * @throws RangeError on a bad count, x > n, or an arm without trials (no estimate exists).
 */
export function differenceOfProportions(stable: Proportion, canary: Proportion): DifferenceOfProportions {
  checkEvents('stable', stable.x, stable.n);
  checkEvents('canary', canary.x, canary.n);
  if (stable.n === 0 || canary.n === 0) {
    throw new RangeError(
      `a difference of proportions needs trials in both arms, got stable.n = ${stable.n}, canary.n = ${canary.n}`,
    );
  }
  const armVariance = ({ x, n }: Proportion) => {
    const shrunk = (x + 1) / (n + 2);
    return (shrunk * (1 - shrunk)) / (n + 2);
  };
  return {
    estimate: canary.x / canary.n - stable.x / stable.n,
    variance: armVariance(stable) + armVariance(canary),
  };
}

/**
 * Trials per arm (equal arms) a two-sided test of p1 = p2 at level alpha needs to detect the difference
 * p2 − p1 with the given power:
 * n = ( z₁₋α/₂ √(2 p̄ q̄) + z_power √(p1 q1 + p2 q2) )² / (p1 − p2)², p̄ = (p1 + p2)/2, q = 1 − p,
 * without continuity correction. Source: J. L. Fleiss, B. Levin, M. C. Paik, Statistical Methods for
 * Rates and Proportions, 3rd ed. (Wiley 2003), ch. 4; the same formula as R's `power.prop.test`.
 *
 * @param p1 proportion of one arm (e.g. the stable click-through), in [0, 1].
 * @param p2 proportion of the other arm, in [0, 1], p2 ≠ p1.
 * @param alpha two-sided significance level, in (0, 1).
 * @param power chance of detecting the difference, in (0, 1).
 * @returns the smallest whole number of trials per arm (rounded up).
 * @throws RangeError when a proportion is outside [0, 1], p1 = p2, or alpha/power outside (0, 1).
 */
export function sampleSizeTwoProportions(p1: number, p2: number, alpha: number, power: number): number {
  checkShare('p1', p1);
  checkShare('p2', p2);
  checkOpenUnit('alpha', alpha);
  checkOpenUnit('power', power);
  if (p1 === p2) throw new RangeError(`p1 and p2 must differ to have something to detect, both are ${p1}`);
  const mean = (p1 + p2) / 2;
  const zAlpha = normalQuantile(1 - alpha / 2);
  const zPower = normalQuantile(power);
  const root = zAlpha * Math.sqrt(2 * mean * (1 - mean)) + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  if (root <= 0) return 0; // power so low (below alpha/2) that any sample size reaches it
  return Math.ceil((root * root) / ((p1 - p2) * (p1 - p2)));
}
