/**
 * McNemar's test for two classifiers scored on the same rows (paired correctness): only the discordant
 * rows carry evidence, b = rows the first model (the champion) gets right and the second (the challenger)
 * wrong, c = the reverse. Under H0 (both models equally accurate) each discordant row is b or c with
 * probability 1/2, so b ~ Binomial(b + c, 1/2) (Q. McNemar, "Note on the sampling error of the difference
 * between correlated proportions or percentages", Psychometrika 12 (1947) 153–157).
 *
 * Three p-values are reported (M. W. Fagerland, S. Lydersen & P. Laake, "The McNemar test for binary
 * matched-pairs data: mid-p and asymptotic are better than exact conditional", BMC Medical Research
 * Methodology 13 (2013) 91):
 * - the exact conditional test, two-sided: min(1, 2 P(X ≤ min(b, c))), X ~ Binomial(b + c, 1/2), the same
 *   as SciPy's `binomtest(min(b, c), b + c, 0.5).pvalue`. The champion gate uses this one: its type I
 *   error never exceeds alpha, so a model is refused only on strong evidence;
 * - the mid-p variant 2 P(X ≤ min(b, c)) − P(X = min(b, c)), for reference (less conservative);
 * - the continuity-corrected chi-square statistic (|b − c| − 1)² / (b + c) (Edwards 1948) with one degree
 *   of freedom, for reference; the correction stops at 0, so b = c gives statistic 0 and p-value 1.
 *
 * Checked against SciPy in test/mcnemar.test.ts through test/fixtures/mcnemar.json (written by
 * test/fixtures/mcnemar.py).
 */

/** The result of {@link mcnemarTest}. */
export interface McNemarResult {
  /** Discordant rows the champion (first model) gets right and the challenger (second) wrong. */
  b: number;
  /** Discordant rows the challenger gets right and the champion wrong. */
  c: number;
  /** Discordant rows, b + c: the binomial's number of trials. */
  n: number;
  /** Continuity-corrected chi-square statistic max(0, |b − c| − 1)² / (b + c); 0 when b + c = 0. */
  statistic: number;
  /** P(χ²₁ ≥ statistic): the asymptotic p-value (reference only). */
  chi2_p_value: number;
  /** Exact conditional two-sided p-value, in [0, 1]; 1 when b + c = 0 (no evidence either way). */
  p_value: number;
  /** Mid-p two-sided p-value, in [0, 1]; 1 when b + c = 0. */
  mid_p_value: number;
}

/** What the paired comparison says about the challenger, at a significance level alpha. */
export type McNemarVerdict = 'better' | 'no_significant_difference' | 'worse';

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`McNemar: ${name} must be a whole number ≥ 0, got ${String(value)}`);
  }
}

/**
 * P(X ≤ k) and P(X = k) for X ~ Binomial(n, 1/2) and 0 ≤ k ≤ n/2.
 *
 * P(X = k) = C(n, k) / 2ⁿ is built as a product of the ratios (n − k + i)/i, i = 1..k, halving by exact
 * powers of two as it goes (no overflow, and about 2k rounding errors: relative error < 1e-12 for n up to
 * 10⁴); the tail is P(X = k) · Σ_{i ≤ k} P(X = i)/P(X = k), summed from the largest term down using
 * P(X = i − 1)/P(X = i) = i/(n − i + 1), which has no cancellation.
 */
function binomialHalfLowerTail(n: number, k: number): { cdf: number; pmf: number } {
  let mantissa = 1;
  let halvings = n; // the 2⁻ⁿ, applied in whole powers of two
  for (let i = 1; i <= k; i++) {
    mantissa *= (n - k + i) / i;
    while (mantissa > 2 ** 500 && halvings >= 500) {
      mantissa *= 2 ** -500;
      halvings -= 500;
    }
  }
  // Apply the remaining halvings in steps that cannot underflow before the end.
  let pmf = mantissa;
  while (halvings > 0) {
    const step = Math.min(halvings, 1000);
    pmf *= 2 ** -step;
    halvings -= step;
    if (pmf === 0) break;
  }
  let term = 1;
  let sum = 1;
  for (let i = k; i >= 1; i--) {
    term *= i / (n - i + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return { cdf: Math.min(1, pmf * sum), pmf };
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erfc(x) for x ≥ 0: 1 − erf(x) with the series of positive terms erf(x) = 2/√π e^(−x²) Σ 2ⁿ x^(2n+1) /
 * (1·3⋯(2n+1)) below 1.5 (Abramowitz & Stegun 7.1.6), the continued fraction A&S 7.1.14 evaluated by the
 * modified Lentz method (Numerical Recipes, 3rd ed., §5.2) above, which keeps relative precision in the
 * tail. (The same method as ops/canary's normal distribution.)
 */
function erfc(x: number): number {
  if (x < 1.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x2) * sum;
  }
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/**
 * Upper tail of the chi-square distribution with one degree of freedom: P(χ²₁ ≥ x) = erfc(√(x/2)), since
 * χ²₁ is the square of a standard normal variable (Abramowitz & Stegun 26.4.4). SciPy: `chi2.sf(x, 1)`.
 * @param x the statistic, ≥ 0 (Infinity gives 0).
 * @throws RangeError when x is negative or NaN.
 */
export function chiSquareOneDofSurvival(x: number): number {
  if (!(x >= 0)) throw new RangeError(`chi-square statistic must be ≥ 0, got ${String(x)}`);
  if (x === Infinity) return 0;
  return Math.min(1, erfc(Math.sqrt(x / 2)));
}

/**
 * McNemar's test on the discordant counts of a paired comparison (see the module comment for the
 * formulas and sources).
 * @param b rows the champion gets right and the challenger wrong (whole number ≥ 0).
 * @param c rows the challenger gets right and the champion wrong (whole number ≥ 0).
 * @returns the counts, the continuity-corrected statistic and the three p-values.
 * @throws RangeError when b or c is not a whole number ≥ 0.
 */
export function mcnemarTest(b: number, c: number): McNemarResult {
  checkCount('b', b);
  checkCount('c', c);
  const n = b + c;
  if (n === 0) return { b, c, n, statistic: 0, chi2_p_value: 1, p_value: 1, mid_p_value: 1 };
  const statistic = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  const { cdf, pmf } = binomialHalfLowerTail(n, Math.min(b, c));
  return {
    b,
    c,
    n,
    statistic,
    chi2_p_value: chiSquareOneDofSurvival(statistic),
    p_value: Math.min(1, 2 * cdf),
    mid_p_value: Math.min(1, 2 * cdf - pmf),
  };
}

/**
 * The discordant counts of two models' correctness on the same rows.
 * @param champion per row, whether the champion's prediction is right (length rows).
 * @param challenger per row, whether the challenger's prediction is right (same length).
 * @returns b (champion alone right) and c (challenger alone right).
 * @throws RangeError when the lengths differ.
 */
export function discordantPairs(
  champion: readonly boolean[],
  challenger: readonly boolean[],
): { b: number; c: number } {
  if (champion.length !== challenger.length) {
    throw new RangeError(
      `McNemar: paired rows differ in number (${champion.length} champion vs ${challenger.length} challenger)`,
    );
  }
  let b = 0;
  let c = 0;
  champion.forEach((right, i) => {
    if (right && !challenger[i]) b++;
    else if (!right && challenger[i]) c++;
  });
  return { b, c };
}

/**
 * The verdict on the challenger at significance level alpha, from the exact p-value: "worse" when the
 * champion alone is right more often (b > c) and p < alpha, "better" when c > b and p < alpha, else
 * "no_significant_difference".
 * @param alpha in (0, 1).
 * @throws RangeError when alpha is outside (0, 1).
 */
export function mcnemarVerdict(
  result: Pick<McNemarResult, 'b' | 'c' | 'p_value'>,
  alpha: number,
): McNemarVerdict {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${String(alpha)}`);
  if (result.p_value >= alpha || result.b === result.c) return 'no_significant_difference';
  return result.b > result.c ? 'worse' : 'better';
}
