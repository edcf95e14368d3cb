/**
 * The statistics against SciPy's reference values (fixtures/*.json, written by fixtures/generate.py;
 * test/fixtures.test.ts checks that the committed files are what the script writes).
 *
 * Tolerances (relative unless said otherwise): the fixtures store closed forms with 14 significant digits
 * and integrals/roots with 11, so
 * - Φ, Φ⁻¹, Wilson, U, AUC, z, Var U, chi-square statistic: 1e−12 (our implementations agree with SciPy to
 *   a few 1e−15);
 * - p-values from Φ of a computed z: 1e−9 (a relative error ε in z moves a tail p-value by about z²ε);
 * - mixture likelihood ratio against scipy.integrate.quad: ln Λ within 1e−9 absolute (Λ within 1e−9
 *   relative), confidence-sequence bounds against scipy.optimize.brentq within 1e−9 of the half-width;
 * - sample sizes: exactly equal (whole numbers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  bucketCounts,
  chiSquareOneDof,
  confidenceSequence,
  differenceOfProportions,
  mannWhitneyBucketed,
  mixtureSprt,
  normalCdf,
  normalPdf,
  normalQuantile,
  sampleSizeTwoProportions,
  wilsonInterval,
} from '../src/stats/index.js';

/** A fixture file as parsed JSON. */
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** |actual − expected| ≤ max(absolute, relative·|expected|), with a message naming the case. */
function expectClose(actual: number, expected: number, relative: number, absolute = 0, what = ''): void {
  const error = Math.abs(actual - expected);
  const allowed = Math.max(absolute, relative * Math.abs(expected));
  if (!(error <= allowed)) {
    throw new Error(`${what}: got ${actual}, SciPy ${expected} (error ${error} > ${allowed})`);
  }
}

/** Cumulative histogram from per-bucket counts, with made-up bounds ending in +Inf. */
function cumulative(buckets: number[]): { le: number[]; counts: number[] } {
  let sum = 0;
  return {
    le: buckets.map((_, i) => (i === buckets.length - 1 ? Infinity : 0.005 * 2 ** i)),
    counts: buckets.map((count) => (sum += count)),
  };
}

describe('normal distribution vs scipy.stats.norm', () => {
  const { cdf, ppf } = fixture<{ cdf: { z: number; cdf: number }[]; ppf: { p: number; ppf: number }[] }>(
    'normal.json',
  );

  it(`Φ(z) matches norm.cdf on ${cdf.length} points from −37.5 to 8 (relative 1e−12)`, () => {
    for (const { z, cdf: expected } of cdf) expectClose(normalCdf(z), expected, 1e-12, 0, `Φ(${z})`);
    expect(cdf.length).toBeGreaterThanOrEqual(30);
  });

  it(`Φ⁻¹(p) matches norm.ppf on ${ppf.length} points from 1e−300 to 1 − 1e−10 (relative 1e−12)`, () => {
    for (const { p, ppf: expected } of ppf)
      expectClose(normalQuantile(p), expected, 1e-12, 1e-15, `Φ⁻¹(${p})`);
  });

  it('keeps the far lower tail relative: Φ(−37) is 5.7e−300, not 0', () => {
    expectClose(normalCdf(-37), 5.7255712225239e-300, 1e-12, 0, 'Φ(−37)');
  });

  it('gives the limits at ±Infinity and 0, and the density at 0', () => {
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalPdf(0)).toBe(1 / Math.sqrt(2 * Math.PI));
  });

  it('rejects NaN and probabilities outside [0, 1] with a RangeError', () => {
    expect(() => normalCdf(NaN)).toThrow(new RangeError('z must be a number, got NaN'));
    expect(() => normalQuantile(1.5)).toThrow(new RangeError('p must be in [0, 1], got 1.5'));
    expect(() => normalQuantile(-0.1)).toThrow(RangeError);
    expect(() => normalQuantile(NaN)).toThrow(new RangeError('p must be in [0, 1], got NaN'));
  });
});

describe('Wilson interval vs binomtest(...).proportion_ci(method="wilson")', () => {
  const { cases } = fixture<{ cases: { x: number; n: number; alpha: number; low: number; high: number }[] }>(
    'wilson.json',
  );

  it(`matches on ${cases.length} cases including x = 0, x = n and n = 1 (relative 1e−12)`, () => {
    for (const { x, n, alpha, low, high } of cases) {
      const [lower, upper] = wilsonInterval(x, n, alpha);
      expectClose(lower, low, 1e-12, 1e-15, `Wilson(${x}, ${n}, ${alpha}) lower`);
      expectClose(upper, high, 1e-12, 1e-15, `Wilson(${x}, ${n}, ${alpha}) upper`);
    }
  });

  it('is [0, 1] without trials', () => {
    expect(wilsonInterval(0, 0, 0.05)).toEqual([0, 1]);
  });

  it('rejects negative counts, x > n, NaN and alpha outside (0, 1)', () => {
    expect(() => wilsonInterval(-1, 10, 0.05)).toThrow(
      new RangeError('proportion.x must be a finite count ≥ 0, got -1'),
    );
    expect(() => wilsonInterval(11, 10, 0.05)).toThrow(
      new RangeError('proportion.x (11) must not exceed proportion.n (10)'),
    );
    expect(() => wilsonInterval(1, NaN, 0.05)).toThrow(
      new RangeError('proportion.n must be a finite count ≥ 0, got NaN'),
    );
    expect(() => wilsonInterval(1, 10, 1)).toThrow(
      new RangeError('alpha must be strictly between 0 and 1, got 1'),
    );
  });
});

describe('difference of proportions', () => {
  const { cases } = fixture<{
    cases: {
      name: string;
      stable: { x: number; n: number };
      canary: { x: number; n: number };
      estimate: number;
      variance: number;
    }[];
  }>('guardrails.json');

  it(`gives the plain difference and the Agresti–Caffo variance on ${cases.length} cases (relative 1e−12)`, () => {
    for (const { name, stable, canary, estimate, variance } of cases) {
      const result = differenceOfProportions(stable, canary);
      expectClose(result.estimate, estimate, 1e-12, 1e-15, `${name} estimate`);
      expectClose(result.variance, variance, 1e-12, 0, `${name} variance`);
    }
  });

  it('keeps a variance > 0 when neither arm has an event (the small-count guard)', () => {
    const { estimate, variance } = differenceOfProportions({ x: 0, n: 500 }, { x: 0, n: 300 });
    expect(estimate).toBe(0);
    expect(variance).toBe(((1 / 502) * (501 / 502)) / 502 + ((1 / 302) * (301 / 302)) / 302);
  });

  it('rejects an arm without trials and x > n', () => {
    expect(() => differenceOfProportions({ x: 0, n: 100 }, { x: 0, n: 0 })).toThrow(
      new RangeError(
        'a difference of proportions needs trials in both arms, got stable.n = 100, canary.n = 0',
      ),
    );
    expect(() => differenceOfProportions({ x: 5, n: 4 }, { x: 0, n: 10 })).toThrow(
      new RangeError('stable.x (5) must not exceed stable.n (4)'),
    );
  });
});

describe('mixture SPRT and confidence sequence vs quad and brentq', () => {
  const { cases } = fixture<{
    cases: {
      estimate: number;
      variance: number;
      tau: number;
      theta0: number;
      alpha: number;
      logLikelihoodRatio: number;
      pValue: number;
      low: number;
      high: number;
    }[];
  }>('mixture.json');

  it(`the closed-form likelihood ratio equals the integral on ${cases.length} cases (ln Λ within 1e−9)`, () => {
    for (const c of cases) {
      const result = mixtureSprt(c);
      expectClose(result.logLikelihoodRatio, c.logLikelihoodRatio, 1e-9, 1e-9, `ln Λ ${JSON.stringify(c)}`);
      expectClose(result.likelihoodRatio, Math.exp(c.logLikelihoodRatio), 2e-9, 0, `Λ ${JSON.stringify(c)}`);
      expectClose(result.pValue, c.pValue, 2e-9, 0, `p ${JSON.stringify(c)}`);
    }
    expect(cases.some((c) => c.pValue < 1e-10)).toBe(true);
    expect(cases.some((c) => c.pValue === 1)).toBe(true);
  });

  it(`the closed-form bounds are the roots of Λ = 1/alpha on ${cases.length} cases (within 1e−9 of the half-width)`, () => {
    for (const c of cases) {
      const [low, high] = confidenceSequence(c);
      const halfWidth = (c.high - c.low) / 2;
      expectClose(low, c.low, 0, 1e-9 * halfWidth, `low ${JSON.stringify(c)}`);
      expectClose(high, c.high, 0, 1e-9 * halfWidth, `high ${JSON.stringify(c)}`);
    }
  });

  it('the lower bound is above θ0 exactly when the p-value is below alpha', () => {
    for (const c of cases) {
      const [low] = confidenceSequence({ ...c, estimate: c.estimate - c.theta0 });
      const { pValue } = mixtureSprt(c);
      expect(low > 0).toBe(pValue < c.alpha && c.estimate > c.theta0);
    }
  });

  it('does not overflow: Λ = Infinity gives p = 0 and a finite ln Λ', () => {
    const result = mixtureSprt({ estimate: 0.5, variance: 1e-8, tau: 0.01, theta0: 0 });
    expect(result.likelihoodRatio).toBe(Infinity);
    expect(result.pValue).toBe(0);
    expect(result.logLikelihoodRatio).toBeCloseTo(
      -0.5 * Math.log1p(1e4) + (1e-4 * 0.25) / (2e-8 * (1e-8 + 1e-4)),
      6,
    );
  });

  it('rejects a zero variance, a zero tau and alpha outside (0, 1)', () => {
    expect(() => mixtureSprt({ estimate: 0, variance: 0, tau: 0.01, theta0: 0 })).toThrow(
      new RangeError('variance must be a finite number > 0, got 0'),
    );
    expect(() => confidenceSequence({ estimate: 0, variance: 1e-4, tau: 0, alpha: 0.05 })).toThrow(
      new RangeError('tau must be a finite number > 0, got 0'),
    );
    expect(() => confidenceSequence({ estimate: NaN, variance: 1e-4, tau: 0.01, alpha: 0.05 })).toThrow(
      new RangeError('estimate must be a finite number, got NaN'),
    );
    expect(() => confidenceSequence({ estimate: 0, variance: 1e-4, tau: 0.01, alpha: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('Mann–Whitney on bucketed histograms vs scipy.stats.mannwhitneyu', () => {
  const { cases } = fixture<{
    cases: {
      name: string;
      stableBuckets: number[];
      canaryBuckets: number[];
      u: number;
      auc: number;
      z: number;
      varianceU: number;
      pValue: number;
    }[];
  }>('mann-whitney.json');

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = mannWhitneyBucketed(cumulative(c.stableBuckets), cumulative(c.canaryBuckets));
    expectClose(result.u, c.u, 1e-12, 0, 'U');
    expectClose(result.auc, c.auc, 1e-12, 0, 'AUC');
    expectClose(result.varianceU, c.varianceU, 1e-12, 0, 'Var U');
    expectClose(result.z, c.z, 1e-12, 1e-12, 'z');
    expectClose(result.pValue, c.pValue, 1e-9, 0, 'p');
    expect(result.nStable).toBe(c.stableBuckets.reduce((a, b) => a + b, 0));
    expect(result.nCanary).toBe(c.canaryBuckets.reduce((a, b) => a + b, 0));
  });

  it('gives z = 0, p = 1 and a zero variance when every request is in one bucket', () => {
    const result = mannWhitneyBucketed(cumulative([0, 700, 0]), cumulative([0, 80, 0]));
    expect(result).toEqual({ u: 28000, auc: 0.5, z: 0, pValue: 1, varianceU: 0, nStable: 700, nCanary: 80 });
  });

  it('reads per-bucket counts from a cumulative histogram', () => {
    expect(bucketCounts('stable', { le: [0.1, 0.25, Infinity], counts: [3, 3, 10] })).toEqual([3, 0, 7]);
  });

  it('rejects length mismatches, decreasing counts, different bounds and empty histograms', () => {
    expect(() => bucketCounts('canary', { le: [0.1, Infinity], counts: [1] })).toThrow(
      new RangeError('canary histogram: le and counts must be arrays of the same length, got 2 and 1'),
    );
    expect(() => bucketCounts('stable', { le: [0.1, 0.25, Infinity], counts: [5, 4, 9] })).toThrow(
      new RangeError('stable histogram: cumulative counts must not decrease, got 4 at le=0.25 after 5'),
    );
    expect(() => bucketCounts('stable', { le: [0.25, 0.1, Infinity], counts: [1, 2, 3] })).toThrow(
      new RangeError('stable histogram: le must be strictly ascending numbers, got 0.25, 0.1, Infinity'),
    );
    expect(() => bucketCounts('stable', { le: [0.1, Infinity], counts: [-1, 2] })).toThrow(
      new RangeError('stable histogram counts[0] must be a finite count ≥ 0, got -1'),
    );
    expect(() =>
      mannWhitneyBucketed({ le: [0.1, Infinity], counts: [1, 2] }, { le: [0.25, Infinity], counts: [1, 2] }),
    ).toThrow(
      new RangeError(
        'stable and canary histograms must have the same bounds, got [0.1, Infinity] and [0.25, Infinity]',
      ),
    );
    expect(() => mannWhitneyBucketed(cumulative([1, 2]), cumulative([1]))).toThrow(RangeError);
    expect(() => mannWhitneyBucketed(cumulative([1, 2]), cumulative([0, 0]))).toThrow(
      new RangeError('the rank test needs observations in both histograms, got stable 3, canary 0'),
    );
  });
});

describe('chi-square with one degree of freedom vs scipy.stats.chisquare', () => {
  const { cases } = fixture<{
    cases: {
      observed: [number, number];
      expectedShares: [number, number];
      statistic: number;
      pValue: number;
    }[];
  }>('chi-square.json');

  it(`matches on ${cases.length} cases, p-values down to 1e−122 (statistic 1e−12, p 1e−9)`, () => {
    for (const { observed, expectedShares, statistic, pValue } of cases) {
      const result = chiSquareOneDof(observed, expectedShares);
      expectClose(result.statistic, statistic, 1e-12, 1e-15, `X² ${observed}`);
      expectClose(result.pValue, pValue, 1e-9, 0, `p ${observed}`);
    }
  });

  it('is infinite with p = 0 when an arm expected to be empty is not', () => {
    expect(chiSquareOneDof([3, 97], [0, 1])).toEqual({ statistic: Infinity, pValue: 0 });
    expect(chiSquareOneDof([0, 97], [0, 1])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('rejects bad shares, bad counts and an empty table', () => {
    expect(() => chiSquareOneDof([1, 2], [0.2, 0.7])).toThrow(
      new RangeError('expectedShares must sum to 1, got 0.2 + 0.7'),
    );
    expect(() => chiSquareOneDof([1, 2], [1.2, -0.2])).toThrow(
      new RangeError('expectedShares[0] must be in [0, 1], got 1.2'),
    );
    expect(() => chiSquareOneDof([1, -2], [0.5, 0.5])).toThrow(
      new RangeError('observed[1] must be a finite count ≥ 0, got -2'),
    );
    expect(() => chiSquareOneDof([0, 0], [0.5, 0.5])).toThrow(
      new RangeError('observed must hold at least one count, got [0, 0]'),
    );
  });
});

describe('sample size for two proportions (Fleiss; z from norm.ppf)', () => {
  const { cases } = fixture<{
    cases: { p1: number; p2: number; alpha: number; power: number; perArm: number }[];
  }>('sample-size.json');

  it(`equals the reference on ${cases.length} cases`, () => {
    expect(cases.map((c) => sampleSizeTwoProportions(c.p1, c.p2, c.alpha, c.power))).toEqual(
      cases.map((c) => c.perArm),
    );
  });

  it('rejects equal proportions and levels outside (0, 1)', () => {
    expect(() => sampleSizeTwoProportions(0.1, 0.1, 0.05, 0.8)).toThrow(
      new RangeError('p1 and p2 must differ to have something to detect, both are 0.1'),
    );
    expect(() => sampleSizeTwoProportions(0.1, 1.2, 0.05, 0.8)).toThrow(
      new RangeError('p2 must be in [0, 1], got 1.2'),
    );
    expect(() => sampleSizeTwoProportions(0.1, 0.12, 0.05, 1)).toThrow(
      new RangeError('power must be strictly between 0 and 1, got 1'),
    );
  });
});
