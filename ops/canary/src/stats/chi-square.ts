/**
 * Pearson's chi-square goodness-of-fit test with two categories (one degree of freedom): the
 * sample-ratio-mismatch check of observed users per arm against the configured split.
 */
import { checkCount, checkShare } from './checks.js';
import { normalCdf } from './normal.js';

/** Pearson's statistic and its p-value. */
export interface ChiSquareResult {
  /** Σ (observed − expected)² / expected; Infinity when a category expected to be empty is not. */
  statistic: number;
  /** P(χ²₁ ≥ statistic) = 2(1 − Φ(√statistic)). */
  pValue: number;
}

/**
 * Pearson's chi-square test of two observed counts against expected shares:
 * X² = Σᵢ (Oᵢ − N pᵢ)² / (N pᵢ), N = O₁ + O₂, with one degree of freedom; since a χ²₁ variable is the
 * square of a standard normal one, P(χ²₁ ≥ x) = 2(1 − Φ(√x)) = 2Φ(−√x) (K. Pearson, Phil. Mag. 50 (1900)
 * 157–175; Abramowitz & Stegun §26.4). Same as SciPy's `chisquare(observed, N · expectedShares)`.
 *
 * @param observed the two counts [a, b] (≥ 0, not both 0).
 * @param expectedShares the shares [p, 1 − p] expected under H0, each in [0, 1], summing to 1 (±1e−9).
 *   A share of 0 with a count > 0 gives statistic Infinity and pValue 0.
 * @throws RangeError when an array does not have length 2, a count is negative, NaN or infinite, both
 *   counts are 0, a share is outside [0, 1] or the shares do not sum to 1.
 */
export function chiSquareOneDof(
  observed: [number, number],
  expectedShares: [number, number],
): ChiSquareResult {
  if (!Array.isArray(observed) || observed.length !== 2) {
    throw new RangeError(`observed must be two counts, got ${JSON.stringify(observed)}`);
  }
  if (!Array.isArray(expectedShares) || expectedShares.length !== 2) {
    throw new RangeError(`expectedShares must be two shares, got ${JSON.stringify(expectedShares)}`);
  }
  observed.forEach((count, i) => checkCount(`observed[${i}]`, count));
  expectedShares.forEach((share, i) => checkShare(`expectedShares[${i}]`, share));
  if (Math.abs(expectedShares[0] + expectedShares[1] - 1) > 1e-9) {
    throw new RangeError(`expectedShares must sum to 1, got ${expectedShares[0]} + ${expectedShares[1]}`);
  }
  const total = observed[0] + observed[1];
  if (total === 0) throw new RangeError('observed must hold at least one count, got [0, 0]');
  let statistic = 0;
  for (let i = 0; i < 2; i++) {
    const expected = total * expectedShares[i];
    if (expected === 0) {
      if (observed[i] > 0) statistic = Infinity;
    } else {
      statistic += ((observed[i] - expected) * (observed[i] - expected)) / expected;
    }
  }
  return { statistic, pValue: Math.min(1, 2 * normalCdf(-Math.sqrt(statistic))) };
}
