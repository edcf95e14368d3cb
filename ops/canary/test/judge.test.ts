/**
 * The judge on hand-made count tables: one case per decision (PASS, FAIL, INSUFFICIENT, HOLD), the
 * always-valid p-value's running minimum across looks, configuration errors, the People experiment that
 * never decides, and two seeded simulations (A/A: no more false FAILs than alpha; 0.5% → 2% errors:
 * detected within 5,000 canary requests).
 *
 * The FAIL case's numbers come from fixtures/guardrails.json, computed by SciPy (numerical integration
 * of the mixture likelihood ratio and root finding for the bounds; tolerance 1e−9 relative).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createRandom } from '../../../lib-ml/src/model/random.js';
import { DEFAULT_JUDGE_CONFIG } from '../src/judge/defaults.js';
import { judge } from '../src/judge/judge.js';
import type { JudgeConfig, JudgeState, Look, VersionCounts } from '../src/judge/types.js';

/** Latency bucket bounds of lib-service's HTTP histogram (seconds), ending in +Inf. */
const LE = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, Infinity];
/** A healthy latency distribution: share of requests in each bucket of {@link LE} (sums to 1). */
const HEALTHY_SHAPE = [0.02, 0.08, 0.2, 0.25, 0.2, 0.12, 0.08, 0.03, 0.01, 0.005, 0.003, 0.001, 0.001];

/** Cumulative histogram of `requests` spread over the buckets by `shape` (rounded per bucket). */
function histogram(requests: number, shape = HEALTHY_SHAPE): VersionCounts['latency'] {
  const buckets = shape.map((share) => Math.round(share * requests));
  buckets[buckets.length - 1] += requests - buckets.reduce((a, b) => a + b, 0);
  let sum = 0;
  return { le: LE, counts: buckets.map((count) => (sum += count)) };
}

/** Index of 0.25 s, the default SLO, in {@link LE}. */
const SLO_INDEX = LE.indexOf(0.25);

/** Cumulative histogram of `requests` of which exactly `slow` took longer than 0.25 s. */
function histogramWithSlow(requests: number, slow: number): VersionCounts['latency'] {
  const fast = requests - slow;
  const fastShare = (i: number) => (i + 1) / (SLO_INDEX + 1);
  const slowShare = (i: number) => (i - SLO_INDEX) / (LE.length - 1 - SLO_INDEX);
  return {
    le: LE,
    counts: LE.map((_, i) =>
      i <= SLO_INDEX ? Math.round(fast * fastShare(i)) : fast + Math.round(slow * slowShare(i)),
    ),
  };
}

/** One version's counts; everything not given is proportional to `requests` and healthy. */
function version(requests: number, overrides: Partial<VersionCounts> = {}): VersionCounts {
  return {
    requests,
    errors: Math.round(requests * 0.005),
    latency: histogram(requests),
    feedbackAgreed: Math.round(requests * 0.18),
    feedbackDisagreed: Math.round(requests * 0.02),
    peopleViews: Math.round(requests * 0.2),
    peopleClicks: Math.round(requests * 0.02),
    visitors: Math.round(requests / 5),
    ...overrides,
  };
}

/** A look at a 10% canary. */
function look(stable: VersionCounts, canary: VersionCounts, canaryWeight = 10): Look {
  return { stable, canary, canaryWeight, time: Date.UTC(2026, 0, 1) };
}

interface GuardrailCase {
  name: string;
  stable: { x: number; n: number };
  canary: { x: number; n: number };
  tau: number;
  alpha: number;
  estimate: number;
  low: number;
  high: number;
  pValue: number;
}
const GUARDRAIL_CASES = (
  JSON.parse(readFileSync(new URL('../fixtures/guardrails.json', import.meta.url), 'utf8')) as {
    cases: GuardrailCase[];
  }
).cases;
const reference = (name: string) => GUARDRAIL_CASES.find((c) => c.name === name)!;

/** |actual − expected| ≤ relative·|expected| (or ≤ relative when expected is 0). */
function expectRelative(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.max(Math.abs(expected), 1e-300));
}

const config = (changes: Partial<JudgeConfig> = {}): JudgeConfig => ({ ...DEFAULT_JUDGE_CONFIG, ...changes });

describe('judge decisions on count tables', () => {
  it('passes once error_rate and latency_slo pass, without waiting for sparse feedback; any FAIL still fails', () => {
    // 20 feedback answers per arm: agreement cannot prove its 5-point margin (INSUFFICIENT).
    const sparse = { feedbackAgreed: 16, feedbackDisagreed: 4 };
    const healthy = look(version(45_000, sparse), version(5_000, sparse));
    const byDefault = judge(healthy, DEFAULT_JUDGE_CONFIG);
    expect(byDefault.guardrails.find((g) => g.name === 'agreement')?.verdict).toBe('INSUFFICIENT');
    expect(byDefault.decision).toBe('PASS');
    expect(byDefault.summary).toMatch(
      /^PASS: error_rate, latency_slo and latency_rank show the canary no worse than stable within their margins; agreement found nothing worse yet \(not required to pass/,
    );
    const strict = judge(healthy, config({ passRequires: ['error_rate', 'latency_slo', 'agreement'] }));
    expect(strict.decision).toBe('INSUFFICIENT');
    // A model that users call wrong far more often is rolled back although agreement is not required.
    const worse = look(version(45_000), version(5_000, { feedbackAgreed: 500, feedbackDisagreed: 500 }));
    const failed = judge(worse, DEFAULT_JUDGE_CONFIG);
    expect(failed.guardrails.find((g) => g.name === 'agreement')?.verdict).toBe('FAIL');
    expect(failed.decision).toBe('FAIL');
  });

  it('passes a healthy canary with enough traffic on every guardrail', () => {
    const result = judge(look(version(45_000), version(5_000)), DEFAULT_JUDGE_CONFIG);
    expect(result.decision).toBe('PASS');
    expect(result.guardrails.map((g) => [g.name, g.verdict])).toEqual([
      ['error_rate', 'PASS'],
      ['latency_slo', 'PASS'],
      ['latency_rank', 'PASS'],
      ['agreement', 'PASS'],
    ]);
    for (const g of result.guardrails) {
      expect(g.interval[1]).toBeLessThan(g.margin);
      expect(g.interval[0]).toBeLessThanOrEqual(0);
    }
    expect(result.guardrails[0].stable).toEqual({ x: 225, n: 45_000 });
    expect(result.guardrails[0].canary).toEqual({ x: 25, n: 5_000 });
    expect(result.summary).toMatch(
      /^PASS: error_rate, latency_slo, latency_rank and agreement show the canary no worse than stable within their margins\. Sample ratio as configured: the canary got 10\.0% of 10,000 new users where 10\.0% was configured/,
    );
    expect(result.state).toEqual({
      pValues: { error_rate: 1, latency_slo: 1, latency_rank: 1, agreement: 1 },
      looks: 1,
    });
  });

  it('fails 0.5% vs 2% errors with the estimate, interval and p-value SciPy computes', () => {
    const stable = version(18_000, { errors: 90 });
    const canary = version(2_000, { errors: 40 });
    const result = judge(look(stable, canary), DEFAULT_JUDGE_CONFIG);
    expect(result.decision).toBe('FAIL');
    const errorRate = result.guardrails.find((g) => g.name === 'error_rate')!;
    const expected = reference('errors 0.5% vs 2%');
    expect(expected.alpha).toBe(DEFAULT_JUDGE_CONFIG.alpha / 4);
    expect(errorRate.verdict).toBe('FAIL');
    expect(errorRate.estimate).toBe(0.015);
    expectRelative(errorRate.interval[0], expected.low, 1e-9);
    expectRelative(errorRate.interval[1], expected.high, 1e-9);
    expectRelative(errorRate.pValue, expected.pValue, 1e-9);
    expect(errorRate.interval[0]).toBeCloseTo(0.0037528819, 9);
    expect(errorRate.pValue).toBeCloseTo(1.6370549e-4, 10);
    expect(errorRate.reason).toBe(
      'canary 5xx 2.00% (40 of 2,000 requests) vs stable 0.50% (90 of 18,000): +1.50 points, 98.75% always-valid ' +
        'interval [+0.38, +2.62] points, lower bound above 0 (p = 1.6e-4 < 0.0125): the canary is worse',
    );
    expect(
      result.summary.startsWith(
        `FAIL: the canary is worse than stable on error_rate — error_rate: ${errorRate.reason}. Roll back.`,
      ),
    ).toBe(true);
    expect(result.state.pValues.error_rate).toBe(errorRate.pValue);
  });

  it('computes the other proportion guardrails as SciPy does (agreement, SLO share)', () => {
    const feedback = reference('wrong feedback 10% vs 13.3%');
    const slow = reference('slow share 3% vs 3.5%');
    // Latency: 540 of 18,000 stable and 70 of 2,000 canary requests slower than 0.25 s.
    const stable = version(18_000, {
      feedbackAgreed: 2_700,
      feedbackDisagreed: 300,
      latency: histogramWithSlow(18_000, 540),
    });
    const canary = version(2_000, {
      feedbackAgreed: 260,
      feedbackDisagreed: 40,
      latency: histogramWithSlow(2_000, 70),
    });
    const result = judge(look(stable, canary), DEFAULT_JUDGE_CONFIG);
    const agreement = result.guardrails.find((g) => g.name === 'agreement')!;
    expect([agreement.stable, agreement.canary]).toEqual([feedback.stable, feedback.canary]);
    expectRelative(agreement.interval[0], feedback.low, 1e-9);
    expectRelative(agreement.interval[1], feedback.high, 1e-9);
    expectRelative(agreement.pValue, feedback.pValue, 1e-9);
    expect(agreement.verdict).toBe('INSUFFICIENT');
    const slo = result.guardrails.find((g) => g.name === 'latency_slo')!;
    expect([slo.stable, slo.canary]).toEqual([slow.stable, slow.canary]);
    expectRelative(slo.interval[0], slow.low, 1e-9);
    expectRelative(slo.interval[1], slow.high, 1e-9);
    expect(slo.pValue).toBe(1);
    expect(slo.verdict).toBe('INSUFFICIENT');
    expect(slo.reason).toBe(
      'canary slower than 0.25 s 3.50% (70 of 2,000 requests) vs stable 3.00% (540 of 18,000): +0.50 points, ' +
        '98.75% always-valid interval [-1.02, +2.02] points, p = 1; not decided: upper bound +2.02 not yet below the margin +2.00 points',
    );
  });

  it('is INSUFFICIENT on tiny traffic, whatever the canary does', () => {
    const result = judge(look(version(180), version(20, { errors: 2 })), DEFAULT_JUDGE_CONFIG);
    expect(result.decision).toBe('INSUFFICIENT');
    expect(result.guardrails.map((g) => g.verdict)).toEqual([
      'INSUFFICIENT',
      'INSUFFICIENT',
      'INSUFFICIENT',
      'INSUFFICIENT',
    ]);
    expect(result.guardrails[0].reason).toMatch(
      /^canary 5xx 10\.00% \(2 of 20 requests\) vs stable 0\.56% \(1 of 180\): \+9\.44 points, 98\.75% always-valid interval \[.*\] points, p = .*; not decided: PASS needs 200 requests per arm, the smaller arm has 20$/,
    );
    expect(result.summary).toMatch(
      /^INSUFFICIENT: no guardrail failed, but error_rate, latency_slo, latency_rank and agreement cannot pass yet \(more data needed\)\./,
    );
  });

  it('treats a canary without any data (missing series) as no traffic, never a failure', () => {
    const empty: VersionCounts = {
      requests: 0,
      errors: 0,
      latency: { le: [], counts: [] },
      feedbackAgreed: 0,
      feedbackDisagreed: 0,
      peopleViews: 0,
      peopleClicks: 0,
      visitors: 0,
    };
    const result = judge(look(version(10_000), empty), DEFAULT_JUDGE_CONFIG);
    expect(result.decision).toBe('HOLD'); // 2,000 stable visitors and none for a 10% canary: the split is broken
    const unchecked = judge(look(version(10_000, { visitors: 0 }), empty), DEFAULT_JUDGE_CONFIG);
    expect(unchecked.decision).toBe('INSUFFICIENT');
    expect(unchecked.guardrails.map((g) => [g.verdict, g.pValue, g.interval])).toEqual([
      ['INSUFFICIENT', 1, [-1, 1]],
      ['INSUFFICIENT', 1, [-1, 1]],
      ['INSUFFICIENT', 1, [-0.5, 0.5]],
      ['INSUFFICIENT', 1, [-1, 1]],
    ]);
    expect(unchecked.guardrails.map((g) => g.reason)).toEqual([
      'no requests from the canary yet',
      'no requests from the canary yet',
      'no latency observations from the canary yet',
      'no answers from the canary yet',
    ]);
    const nothing = judge(look(empty, empty), DEFAULT_JUDGE_CONFIG);
    expect(nothing.decision).toBe('INSUFFICIENT');
    expect(nothing.guardrails[0].reason).toBe('no requests from either version yet');
  });

  it('holds on a sample-ratio mismatch (10% configured, 20% of 5,000 visitors observed)', () => {
    const healthy = look(version(45_000, { visitors: 4_000 }), version(5_000, { visitors: 1_000 }));
    const previous: JudgeState = { pValues: { error_rate: 0.4 }, looks: 3 };
    const result = judge(healthy, DEFAULT_JUDGE_CONFIG, previous);
    expect(result.decision).toBe('HOLD');
    expect(result.srm).toEqual({
      checked: true,
      expectedShare: 0.1,
      observedShare: 0.2,
      chiSquare: expect.any(Number),
      pValue: expect.any(Number),
      mismatch: true,
      stableVisitors: 4_000,
      canaryVisitors: 1_000,
    });
    // scipy.stats.chisquare([1000, 4000], f_exp=[500, 4500]) (fixtures/chi-square.json)
    expectRelative(result.srm.chiSquare, 555.55555555556, 1e-12);
    expectRelative(result.srm.pValue, 7.7882877117787e-123, 1e-9);
    expect(result.summary).toMatch(
      /^HOLD: Sample-ratio mismatch: the canary got 20\.0% of 5,000 new users where 10\.0% was configured \(chi-square 555\.6, p = 7\.8e-123 < 0\.001\), so the split is not what was configured and no guardrail can be trusted this look\./,
    );
    // The guardrails are still reported, but an untrusted look leaves the running minima alone.
    expect(result.guardrails.every((g) => g.verdict === 'PASS')).toBe(true);
    expect(result.state).toEqual({ pValues: { error_rate: 0.4 }, looks: 4 });
  });

  it('does not hold on a split within chance (520 of 5,000 for 10%) and skips the check without visitors', () => {
    const within = judge(
      look(version(45_000, { visitors: 4_480 }), version(5_000, { visitors: 520 })),
      DEFAULT_JUDGE_CONFIG,
    );
    expect(within.srm.mismatch).toBe(false);
    expectRelative(within.srm.pValue, 0.34577858615116, 1e-9);
    expect(within.decision).toBe('PASS');
    const unchecked = judge(
      look(version(45_000, { visitors: 0 }), version(5_000, { visitors: 0 })),
      DEFAULT_JUDGE_CONFIG,
    );
    expect(unchecked.srm).toEqual({
      checked: false,
      expectedShare: 0.1,
      observedShare: NaN,
      chiSquare: 0,
      pValue: 1,
      mismatch: false,
      stableVisitors: 0,
      canaryVisitors: 0,
    });
    expect(unchecked.decision).toBe('PASS');
    expect(unchecked.summary).toContain('Sample ratio not checked: no visitors counted.');
  });
});

describe('always-valid p-values across looks', () => {
  it('reports the running minimum and keeps it in the state', () => {
    // Look 1: canary 1.2% vs 0.5% errors on 1,000 requests; look 2: the canary recovers.
    const first = judge(
      look(version(9_000, { errors: 45 }), version(1_000, { errors: 12 })),
      DEFAULT_JUDGE_CONFIG,
    );
    const p1 = first.guardrails[0].pValue;
    expect(p1).toBeGreaterThan(0.0125);
    expect(p1).toBeLessThan(1);
    expect(first.guardrails[0].verdict).toBe('INSUFFICIENT');
    const second = judge(
      look(version(18_000, { errors: 90 }), version(2_000, { errors: 13 })),
      DEFAULT_JUDGE_CONFIG,
      first.state,
    );
    const alone = judge(
      look(version(18_000, { errors: 90 }), version(2_000, { errors: 13 })),
      DEFAULT_JUDGE_CONFIG,
    );
    expect(alone.guardrails[0].pValue).toBeGreaterThan(p1);
    expect(second.guardrails[0].pValue).toBe(p1);
    expect(second.state).toEqual({ pValues: { ...alone.state.pValues, error_rate: p1 }, looks: 2 });
  });

  it('keeps a guardrail FAILed once its p-value fell below alpha/k at an earlier look', () => {
    const state: JudgeState = { pValues: { error_rate: 0.01 }, looks: 5 };
    const result = judge(look(version(45_000), version(5_000)), DEFAULT_JUDGE_CONFIG, state);
    expect(result.decision).toBe('FAIL');
    expect(result.guardrails[0].verdict).toBe('FAIL');
    expect(result.guardrails[0].pValue).toBe(0.01);
    expect(result.guardrails[0].reason).toMatch(
      /the always-valid p-value fell below 0\.0125 at an earlier look \(p = 0\.01\): the canary is worse$/,
    );
    // At 0.02 (≥ alpha/4 = 0.0125) the earlier look decided nothing.
    expect(
      judge(look(version(45_000), version(5_000)), DEFAULT_JUDGE_CONFIG, {
        pValues: { error_rate: 0.02 },
        looks: 5,
      }).decision,
    ).toBe('PASS');
  });
});

describe('latency guardrails', () => {
  it('rejects an SLO that is not a bucket bound with a clear error', () => {
    const bad = config({ latency: { ...DEFAULT_JUDGE_CONFIG.latency, sloSeconds: 0.3 } });
    expect(() => judge(look(version(9_000), version(1_000)), bad)).toThrow(
      new RangeError(
        'latency.sloSeconds 0.3 is not a bucket bound of the latency histogram (bounds in seconds: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, Infinity); set it to one of them',
      ),
    );
  });

  it('fails a canary slower below the SLO on the rank test while the SLO share still passes', () => {
    // Canary: every request one bucket slower up to 0.1 s (e.g. 20 ms → 40 ms); nothing new above 0.25 s.
    const slowerShape = [0, 0.02, 0.08, 0.2, 0.25, 0.2, 0.2, 0.03, 0.01, 0.005, 0.003, 0.001, 0.001];
    const result = judge(
      look(version(45_000), version(5_000, { latency: histogram(5_000, slowerShape) })),
      DEFAULT_JUDGE_CONFIG,
    );
    const byName = Object.fromEntries(result.guardrails.map((g) => [g.name, g]));
    expect(byName.latency_slo.verdict).toBe('PASS');
    expect(byName.latency_rank.verdict).toBe('FAIL');
    expect(byName.latency_rank.estimate).toBeGreaterThan(0.1);
    expect(byName.latency_rank.stable).toEqual({ n: 45_000, x: 0 });
    expect(result.decision).toBe('FAIL');
  });

  it('passes the rank test when every request of both versions is in one bucket', () => {
    const oneBucket = (n: number) => histogram(n, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const result = judge(
      look(version(2_000, { latency: oneBucket(2_000) }), version(400, { latency: oneBucket(400) })),
      config({ agreement: { ...DEFAULT_JUDGE_CONFIG.agreement, enabled: false } }),
    );
    const rank = result.guardrails.find((g) => g.name === 'latency_rank')!;
    expect([rank.verdict, rank.estimate, rank.interval, rank.pValue]).toEqual(['PASS', 0, [0, 0], 1]);
    expect(rank.reason).toMatch(
      /^every one of the 400 canary and 2,000 stable requests fell in the same latency bucket/,
    );
  });

  it('rejects histograms with different bounds', () => {
    const other = { le: [0.1, 0.5, Infinity], counts: [10, 20, 30] };
    expect(() =>
      judge(look(version(9_000), version(1_000, { latency: other })), DEFAULT_JUDGE_CONFIG),
    ).toThrow(
      /^stable and canary latency histograms have different bucket bounds: \[0\.001, .*\] and \[0\.1, 0\.5, Infinity\]$/,
    );
  });
});

describe('configuration', () => {
  it('splits alpha over the enabled guardrails only', () => {
    const three = judge(
      look(version(18_000, { errors: 90 }), version(2_000, { errors: 40 })),
      config({ agreement: { ...DEFAULT_JUDGE_CONFIG.agreement, enabled: false } }),
    );
    expect(three.guardrails.map((g) => g.name)).toEqual(['error_rate', 'latency_slo', 'latency_rank']);
    expect(three.guardrails[0].reason).toContain('98.33% always-valid interval');
    expect(three.state.pValues.agreement).toBeUndefined();
    const two = judge(
      look(version(18_000), version(2_000)),
      config({
        agreement: { ...DEFAULT_JUDGE_CONFIG.agreement, enabled: false },
        latency: { ...DEFAULT_JUDGE_CONFIG.latency, rankTest: false },
      }),
    );
    expect(two.guardrails.map((g) => g.name)).toEqual(['error_rate', 'latency_slo']);
    expect(two.guardrails[0].reason).toContain('97.5% always-valid interval');
  });

  it('has the documented defaults, frozen', () => {
    expect(DEFAULT_JUDGE_CONFIG).toEqual({
      alpha: 0.05,
      srmAlpha: 0.001,
      errorRate: { margin: 0.01, minRequests: 200 },
      latency: { sloSeconds: 0.25, margin: 0.02, minRequests: 200, rankTest: true },
      agreement: { enabled: true, margin: 0.05, minFeedback: 50 },
      passRequires: ['error_rate', 'latency_slo'],
      experiment: { alpha: 0.05, power: 0.8, minimumDetectableEffect: 0.02 },
    });
    expect(Object.isFrozen(DEFAULT_JUDGE_CONFIG.errorRate)).toBe(true);
  });

  it('rejects bad settings, bad counts and a bad state with a RangeError naming the field', () => {
    const ok = look(version(9_000), version(1_000));
    expect(() => judge(ok, config({ alpha: 0 }))).toThrow(
      new RangeError('config.alpha must be strictly between 0 and 1, got 0'),
    );
    expect(() => judge(ok, config({ errorRate: { margin: -0.01, minRequests: 200 } }))).toThrow(
      new RangeError('config.errorRate.margin must be a finite number > 0, got -0.01'),
    );
    expect(() => judge(look(version(9_000), version(1_000, { errors: -1 })), DEFAULT_JUDGE_CONFIG)).toThrow(
      new RangeError('look.canary.errors must be a finite count ≥ 0, got -1'),
    );
    expect(() =>
      judge(look(version(9_000), version(1_000, { requests: NaN })), DEFAULT_JUDGE_CONFIG),
    ).toThrow(new RangeError('look.canary.requests must be a finite count ≥ 0, got NaN'));
    expect(() =>
      judge(look(version(9_000, { errors: 9_001 }), version(1_000)), DEFAULT_JUDGE_CONFIG),
    ).toThrow(new RangeError('look.stable.errors (9001) must not exceed look.stable.requests (9000)'));
    expect(() => judge(look(version(9_000), version(1_000), 120), DEFAULT_JUDGE_CONFIG)).toThrow(
      new RangeError('look.canaryWeight must be a percentage in [0, 100], got 120'),
    );
    expect(() =>
      judge(
        look(version(9_000), version(1_000, { latency: { le: LE, counts: LE.map((_, i) => 100 - i) } })),
        DEFAULT_JUDGE_CONFIG,
      ),
    ).toThrow(
      new RangeError('canary histogram: cumulative counts must not decrease, got 99 at le=0.0025 after 100'),
    );
    expect(() => judge(ok, DEFAULT_JUDGE_CONFIG, { pValues: { error_rate: 2 }, looks: 1 })).toThrow(
      new RangeError('state.pValues.error_rate must be in [0, 1], got 2'),
    );
  });
});

describe('the People experiment', () => {
  it('reports click-through with Wilson intervals and the views per arm still needed', () => {
    const result = judge(
      look(
        version(18_000, { peopleViews: 3_600, peopleClicks: 360 }),
        version(2_000, { peopleViews: 400, peopleClicks: 40 }),
      ),
      DEFAULT_JUDGE_CONFIG,
    );
    const { experiment } = result;
    expect(experiment.stable.clickThrough).toBe(0.1);
    expect(experiment.canary.clickThrough).toBe(0.1);
    expect(experiment.difference).toBe(0);
    // Fleiss per-arm size for 10% → 12% at alpha 0.05, power 0.8 is 3,841 (fixtures/sample-size.json).
    expect(experiment.viewsPerArmNeeded).toBe(3_841 - 400);
    expect(experiment.minimumDetectableEffect).toBe(0.02);
    // binomtest(40, 400).proportion_ci(0.95, 'wilson') = [0.074299259140034, 0.13331057632740]
    expectRelative(experiment.canary.interval[0], 0.074299259140034, 1e-9);
    expectRelative(experiment.canary.interval[1], 0.1333105763274, 1e-9);
    expect(result.summary).toContain(
      'People experiment (reported only, never decides): click-through canary 10.00% of 400 views [7.43%, 13.33%] vs stable 10.00% of 3,600 views [9.06%, 11.02%], +0.00 points; 3,441 more views per arm needed to detect 2.00 points.',
    );
  });

  it('never changes the decision or the guardrails, whatever the People numbers', () => {
    const base = (people: Partial<VersionCounts>, canaryPeople: Partial<VersionCounts>, errors: number) =>
      judge(look(version(18_000, people), version(2_000, { errors, ...canaryPeople })), DEFAULT_JUDGE_CONFIG);
    for (const errors of [10, 40]) {
      const variants = [
        base({}, {}, errors),
        base({ peopleViews: 0, peopleClicks: 0 }, { peopleViews: 0, peopleClicks: 0 }, errors),
        base({ peopleViews: 3_600, peopleClicks: 100 }, { peopleViews: 400, peopleClicks: 200 }, errors),
        base({ peopleViews: 10, peopleClicks: 30 }, { peopleViews: 5_000, peopleClicks: 1 }, errors),
      ];
      for (const v of variants) {
        expect(v.decision).toBe(variants[0].decision);
        expect(v.guardrails).toEqual(variants[0].guardrails);
        expect(v.state).toEqual(variants[0].state);
      }
    }
    const manyClicks = base({ peopleViews: 10, peopleClicks: 30 }, {}, 10).experiment.stable;
    expect(manyClicks).toEqual({ views: 10, clicks: 30, clickThrough: 3, interval: [NaN, NaN] });
    const noViews = base(
      { peopleViews: 0, peopleClicks: 0 },
      { peopleViews: 0, peopleClicks: 0 },
      10,
    ).experiment;
    expect(noViews.viewsPerArmNeeded).toBe(9_806); // baseline 0.5 → 0.52 (fixtures/sample-size.json)
  });
});

describe('seeded simulations', () => {
  /** Binomial(n, p) by inversion of the cumulative distribution (exact; fine for n·p up to a few hundred). */
  function binomial(random: () => number, n: number, p: number): number {
    let u = random();
    let probability = (1 - p) ** n;
    let k = 0;
    while (u > probability && k < n) {
      u -= probability;
      probability *= ((n - k) / (k + 1)) * (p / (1 - p));
      k++;
    }
    return k;
  }

  /** Adds `n` requests of one version to its running counts (errors at `errorRate`, healthy latency). */
  function addTraffic(random: () => number, counts: VersionCounts, n: number, errorRate: number): void {
    counts.requests += n;
    counts.errors += binomial(random, n, errorRate);
    let left = n;
    let shareLeft = 1;
    const buckets = HEALTHY_SHAPE.map((share, i) => {
      const inBucket =
        i === HEALTHY_SHAPE.length - 1 ? left : binomial(random, left, Math.min(1, share / shareLeft));
      left -= inBucket;
      shareLeft -= share;
      return inBucket;
    });
    let sum = 0;
    const added = buckets.map((count) => (sum += count));
    counts.latency = { le: LE, counts: counts.latency.counts.map((c, i) => c + added[i]) };
    const answers = binomial(random, n, 0.1);
    const wrong = binomial(random, answers, 0.1);
    counts.feedbackDisagreed += wrong;
    counts.feedbackAgreed += answers - wrong;
  }

  /**
   * One canary run: each look adds 1,000 requests split 90/10 and 200 new visitors split at random,
   * until a FAIL or `looks` looks. Returns the canary requests at the first FAIL, or undefined.
   */
  function run(random: () => number, canaryErrorRate: number, looks: number): number | undefined {
    const fresh = (): VersionCounts => ({ ...version(0), latency: { le: LE, counts: LE.map(() => 0) } });
    const stable = fresh();
    const canary = fresh();
    let state: JudgeState | undefined;
    for (let i = 0; i < looks; i++) {
      addTraffic(random, stable, 900, 0.005);
      addTraffic(random, canary, 100, canaryErrorRate);
      const newCanaryVisitors = binomial(random, 200, 0.1);
      canary.visitors += newCanaryVisitors;
      stable.visitors += 200 - newCanaryVisitors;
      const result = judge(look(stable, canary), DEFAULT_JUDGE_CONFIG, state);
      state = result.state;
      if (result.decision === 'FAIL') return canary.requests;
    }
    return undefined;
  }

  it('A/A: 300 runs of 30 looks (3,000 canary requests each) give at most alpha = 5% false FAILs', () => {
    const random = createRandom(20260101);
    let falseFails = 0;
    for (let r = 0; r < 300; r++) if (run(random, 0.005, 30) !== undefined) falseFails++;
    expect(falseFails / 300).toBeLessThanOrEqual(DEFAULT_JUDGE_CONFIG.alpha);
  });

  it('0.5% → 2% errors: at least 95% of 100 runs FAIL within 5,000 canary requests', () => {
    const random = createRandom(7);
    let detected = 0;
    for (let r = 0; r < 100; r++) {
      const at = run(random, 0.02, 50);
      if (at !== undefined && at <= 5_000) detected++;
    }
    expect(detected).toBeGreaterThanOrEqual(95);
  });
});
