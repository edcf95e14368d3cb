/**
 * Unit tests of the bench:canary simulator and baselines: exact outputs on tiny seeded streams and
 * hand-made count tables. Reference values: the simulator's counts come from an independent Python port of
 * mulberry32 and the routing loop (SciPy's norm.cdf for the bucket probabilities); the Mann–Whitney z from
 * SciPy's `mannwhitneyu(..., method='asymptotic', use_continuity=True)`; the interval ends from a
 * brute-force search of the jump points of the same statistic over all pairwise differences.
 */
import { describe, expect, it } from '@jest/globals';
import type { Judgement, JudgeState, Look } from '../src/judge/types.js';
import {
  FLAGGER_DOCS_CONFIG,
  FlaggerAnalysis,
  flaggerCheck,
  runFlagger,
  type FlaggerConfig,
} from '../bench/flagger.js';
import {
  KAYENTA_DEFAULT_CONFIG,
  canaryScore,
  classifyMetric,
  kayentaRun,
  kayentaStageFails,
  mannWhitneyShift,
  percentile,
  removeOutliers,
  wilcoxonZ,
} from '../bench/kayenta.js';
import { parseSettings } from '../bench/options.js';
import { monitoringTable, rolloutNote, rolloutTable, targetLines } from '../bench/report.js';
import {
  SCENARIOS,
  median,
  rolloutRun,
  trafficModel,
  type BenchSettings,
  type ScenarioResult,
  type Tally,
} from '../bench/scenarios.js';
import {
  APP_LATENCY_BUCKETS,
  LookBuilder,
  TrafficSimulator,
  histogramQuantile,
  type MinuteCounts,
  type TrafficModel,
} from '../bench/traffic.js';

const buckets = APP_LATENCY_BUCKETS;

/** A tiny world with large rates so that 8 requests show every path of the loop. */
const tinyModel: TrafficModel = {
  requestsPerMinute: 8,
  visitorsPerMinute: 3,
  buckets,
  stable: {
    errorRate: 0.1,
    latencyMedianSeconds: 0.05,
    latencySigma: 0.5,
    feedbackRate: 0.5,
    disagreeRate: 0.4,
  },
  canary: {
    errorRate: 0.3,
    latencyMedianSeconds: 0.2,
    latencySigma: 0.5,
    feedbackRate: 0.5,
    disagreeRate: 0.4,
  },
};

/** Per-bucket counts (not cumulative) with `n` requests in bucket `index`. */
function inBucket(index: number, n: number): number[] {
  const counts = new Array<number>(buckets.length + 1).fill(0);
  counts[index] = n;
  return counts;
}

function minuteCounts(requests: number, errors: number, latency = inBucket(4, requests)): MinuteCounts {
  return { requests, errors, latency, feedbackAgreed: 0, feedbackDisagreed: 0, visitors: 0 };
}

describe('TrafficSimulator', () => {
  it('gives the exact counts of seed 42 (Python port of mulberry32 and the routing loop)', () => {
    const simulator = new TrafficSimulator(tinyModel, 42);
    expect(simulator.next(50)).toEqual({
      canaryWeight: 50,
      stable: {
        requests: 6,
        errors: 2,
        latency: [0, 0, 1, 3, 2, 0, 0, 0, 0, 0, 0],
        feedbackAgreed: 1,
        feedbackDisagreed: 1,
        visitors: 1,
      },
      canary: {
        requests: 2,
        errors: 1,
        latency: [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0],
        feedbackAgreed: 0,
        feedbackDisagreed: 0,
        visitors: 2,
      },
    });
    expect(simulator.next(25)).toEqual({
      canaryWeight: 25,
      stable: {
        requests: 5,
        errors: 1,
        latency: [0, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0],
        feedbackAgreed: 1,
        feedbackDisagreed: 1,
        visitors: 3,
      },
      canary: {
        requests: 3,
        errors: 2,
        latency: [0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0],
        feedbackAgreed: 1,
        feedbackDisagreed: 1,
        visitors: 0,
      },
    });
  });

  it('sees the same requests whatever the weight (common random numbers)', () => {
    const all = new TrafficSimulator(tinyModel, 7).next(100);
    const none = new TrafficSimulator(tinyModel, 7).next(0);
    expect(all.canary.requests).toBe(8);
    expect(none.stable.requests).toBe(8);
    // The same uniforms: the canary's higher 5xx rate gives at least as many errors as the stable's.
    expect(all.canary.errors).toBeGreaterThanOrEqual(none.stable.errors);
    expect(all.canary.visitors + all.stable.visitors).toBe(3);
  });

  it('rejects a weight or a rate out of range', () => {
    expect(() => new TrafficSimulator(tinyModel, 1).next(101)).toThrow(
      'canaryWeight must be in [0, 100], got 101',
    );
    expect(
      () => new TrafficSimulator({ ...tinyModel, canary: { ...tinyModel.canary, errorRate: 1.5 } }, 1),
    ).toThrow('canary.errorRate must be in [0, 1], got 1.5');
  });
});

describe('LookBuilder', () => {
  it('accumulates minutes into a cumulative look with the visitor-weighted weight', () => {
    const looks = new LookBuilder(buckets);
    const simulator = new TrafficSimulator(tinyModel, 42);
    looks.add(simulator.next(50));
    looks.add(simulator.next(25));
    const look: Look = looks.look();
    expect(look.time).toBe(120_000);
    // 3 visitors at 50 % and 3 at 25 %.
    expect(look.canaryWeight).toBe(37.5);
    expect(look.stable).toEqual({
      requests: 11,
      errors: 3,
      latency: { le: [...buckets, Infinity], counts: [0, 0, 2, 5, 11, 11, 11, 11, 11, 11, 11] },
      feedbackAgreed: 2,
      feedbackDisagreed: 2,
      peopleViews: 0,
      peopleClicks: 0,
      visitors: 4,
    });
    expect(look.canary.latency.counts).toEqual([0, 0, 0, 0, 1, 5, 5, 5, 5, 5, 5]);
    expect(look.canary.requests).toBe(5);
    expect(look.canary.errors).toBe(3);
    expect(look.canary.visitors).toBe(2);
  });
});

describe('histogramQuantile (Prometheus)', () => {
  it('interpolates inside the bucket holding the rank', () => {
    // 10 in (0.05, 0.1], 10 in (0.1, 0.25]: rank 0.95·20 = 19 is the 9th of the second bucket.
    const counts = inBucket(4, 10);
    counts[5] = 10;
    expect(histogramQuantile(0.95, buckets, counts)).toBeCloseTo(0.1 + 0.15 * 0.9, 12);
    expect(histogramQuantile(0.5, buckets, counts)).toBeCloseTo(0.1, 12);
    expect(histogramQuantile(0.99, buckets, inBucket(0, 4))).toBeCloseTo(0.005 * 0.99, 12);
  });

  it('answers the highest finite bound for the +Inf bucket and NaN without observations', () => {
    expect(histogramQuantile(0.95, buckets, inBucket(10, 3))).toBe(5);
    expect(histogramQuantile(0.95, buckets, inBucket(0, 0))).toBeNaN();
  });
});

describe('Flagger-style analysis', () => {
  it('passes a canary with twice the baseline 5xx rate: 1 % errors is a 99 % success rate', () => {
    // The stable version fails 0.5 %, the canary 1 %: Flagger looks at the canary alone.
    expect(flaggerCheck(minuteCounts(1000, 10), buckets, FLAGGER_DOCS_CONFIG)).toEqual({
      passed: true,
      successRatePercent: 99,
      p99Ms: expect.closeTo(99.5, 9),
    });
    const analysis = new FlaggerAnalysis(FLAGGER_DOCS_CONFIG, buckets);
    const actions = [analysis.tick(minuteCounts(0, 0))];
    for (let i = 0; i < 5; i++) actions.push(analysis.tick(minuteCounts(1000, 10)));
    expect(actions).toEqual(['start', 'advance', 'advance', 'advance', 'advance', 'promote']);
    expect(analysis.done).toBe('promoted');
    expect(analysis.weight).toBe(50);
  });

  it('fails a check below 99 %, above the P99 limit, or without traffic', () => {
    expect(flaggerCheck(minuteCounts(1000, 11), buckets, FLAGGER_DOCS_CONFIG).passed).toBe(false);
    // 20 requests: a single 5xx is 95 %.
    expect(flaggerCheck(minuteCounts(20, 1), buckets, FLAGGER_DOCS_CONFIG).successRatePercent).toBe(95);
    const slow = flaggerCheck(minuteCounts(100, 0, inBucket(7, 100)), buckets, FLAGGER_DOCS_CONFIG);
    expect(slow).toEqual({ passed: false, successRatePercent: 100, p99Ms: expect.closeTo(995, 9) });
    expect(flaggerCheck(minuteCounts(0, 0), buckets, FLAGGER_DOCS_CONFIG)).toEqual({
      passed: false,
      successRatePercent: NaN,
      p99Ms: NaN,
    });
  });

  it('rolls back on the tick after the 5th failed check, never resetting the count', () => {
    const analysis = new FlaggerAnalysis(FLAGGER_DOCS_CONFIG, buckets);
    const bad = minuteCounts(100, 5);
    const good = minuteCounts(100, 0);
    const actions = [good, bad, good, bad, bad, good, bad, bad, good].map((counts, i) =>
      i === 0 ? analysis.tick(minuteCounts(0, 0)) : analysis.tick(counts),
    );
    expect(actions).toEqual([
      'start',
      'hold',
      'advance',
      'hold',
      'hold',
      'advance',
      'hold',
      'hold',
      'rollback',
    ]);
    expect(analysis.failedChecks).toBe(5);
    expect(analysis.weight).toBe(0);
    expect(() => analysis.tick(good)).toThrow('the Flagger run has ended (rolled back)');
  });

  it('held at a weight, counts failures but never advances', () => {
    const analysis = new FlaggerAnalysis(FLAGGER_DOCS_CONFIG, buckets, false);
    expect(analysis.tick(minuteCounts(0, 0))).toBe('start');
    expect([1, 2, 3].map(() => analysis.tick(minuteCounts(20, 0)))).toEqual(['hold', 'hold', 'hold']);
    expect(analysis.weight).toBe(0);
  });

  it('runs its own flow on a simulated stream: 5 passing minutes at 10…50 % promote', () => {
    const model: TrafficModel = {
      ...trafficModel(SCENARIOS[0], settingsFor(1)),
      stable: { ...tinyModel.stable, errorRate: 0 },
      canary: { ...tinyModel.stable, errorRate: 0 },
    };
    const run = runFlagger(new TrafficSimulator(model, 3), FLAGGER_DOCS_CONFIG, 100);
    const replay = new TrafficSimulator(model, 3);
    const expected = [10, 20, 30, 40, 50].reduce((sum, w) => sum + replay.next(w).canary.requests, 0);
    expect(run).toEqual({ outcome: 'promoted', canaryRequests: expected, minutes: 5, failedChecks: 0 });
  });

  it('takes the interval and threshold from the config', () => {
    const config: FlaggerConfig = { ...FLAGGER_DOCS_CONFIG, threshold: 1 };
    const analysis = new FlaggerAnalysis(config, buckets);
    analysis.tick(minuteCounts(0, 0));
    expect([analysis.tick(minuteCounts(10, 1)), analysis.tick(minuteCounts(10, 0))]).toEqual([
      'hold',
      'rollback',
    ]);
  });
});

describe('Kayenta-style analysis', () => {
  const baseline = [0, 0, 0, 0, 0.05, 0, 0, 0.1, 0, 0];
  const slightlyWorse = [0.05, 0, 0.1, 0.05, 0, 0.15, 0.05, 0, 0.1, 0.05];
  const muchWorse = [0.1, 0.15, 0.1, 0.2, 0.15, 0.1, 0.15, 0.2, 0.1, 0.15];

  it('computes the asymptotic Wilcoxon z of SciPy', () => {
    expect(wilcoxonZ([3, 4, 5], [1, 2], 0)).toBeCloseTo(1.443375672974064, 12);
    const x = [...slightlyWorse].sort((a, b) => a - b);
    const y = [...baseline].sort((a, b) => a - b);
    expect(wilcoxonZ(x, y, 0)).toBeCloseTo(2.0495474054578864, 12);
    expect(() => wilcoxonZ([1, 1], [1, 1], 0)).toThrow('all observations are tied');
  });

  it('inverts it into the interval and estimate at the jump points', () => {
    const shift = mannWhitneyShift(slightlyWorse, baseline, 0.98);
    expect(Math.abs(shift.lower - 0)).toBeLessThan(1e-6);
    expect(Math.abs(shift.upper - 0.1)).toBeLessThan(1e-6);
    expect(Math.abs(shift.estimate - 0.05)).toBeLessThan(1e-6);
  });

  it('classifies zero-inflated per-minute error rates as Pass although the canary fails 3.7 times as often', () => {
    // The interval's lower end sits on 0, not above 0.25 × the estimate (0.05).
    expect(classifyMetric(baseline, slightlyWorse, KAYENTA_DEFAULT_CONFIG)).toBe('Pass');
    expect(classifyMetric(baseline, muchWorse, KAYENTA_DEFAULT_CONFIG)).toBe('High');
    expect(classifyMetric(baseline, baseline, KAYENTA_DEFAULT_CONFIG)).toBe('Pass');
    expect(classifyMetric([NaN], muchWorse, KAYENTA_DEFAULT_CONFIG)).toBe('Nodata');
    // A better canary is not High (direction increase).
    expect(classifyMetric(muchWorse, baseline, KAYENTA_DEFAULT_CONFIG)).toBe('Pass');
  });

  it('needs the interval to clear 25 % of the estimate (tolerance), not just 0', () => {
    const control = Array.from({ length: 20 }, (_, i) => i + 1);
    const shifted = (by: number) => control.map((v) => v + by);
    const six = mannWhitneyShift(shifted(6), control, 0.98);
    expect([six.lower, six.upper, six.estimate].map((v) => Math.round(v * 1e5) / 1e5)).toEqual([1, 11, 6]);
    // 1 > 0 but not > 0.25 × 6.
    expect(classifyMetric(control, shifted(6), KAYENTA_DEFAULT_CONFIG)).toBe('Pass');
    // Lower end 3 > 0.25 × 8.
    expect(classifyMetric(control, shifted(8), KAYENTA_DEFAULT_CONFIG)).toBe('High');
  });

  it('uses the legacy percentile and the reduced-sensitivity IQR fences', () => {
    expect(percentile([1, 2, 3, 4], 25)).toBe(1.25);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([5], 50)).toBe(5);
    // n = 10: P99 is the maximum, nothing is removed although the IQR is 0.
    const ten = [...new Array<number>(9).fill(0), 10];
    expect(removeOutliers(ten, 3)).toEqual(ten);
    // n = 100: P99 = 9.9, so the single 10 goes.
    const hundred = [...new Array<number>(99).fill(0), 10];
    expect(removeOutliers(hundred, 3)).toEqual(new Array<number>(99).fill(0));
  });

  it('scores groups and fails the stage at or below marginal, or below pass on the last run', () => {
    expect(canaryScore(['Pass', 'Pass'])).toBe(100);
    expect(canaryScore(['Pass', 'High'])).toBe(50);
    expect(canaryScore(['Pass', 'Nodata'])).toBe(50);
    expect(kayentaStageFails(50, false, KAYENTA_DEFAULT_CONFIG)).toBe(true);
    expect(kayentaStageFails(75, false, KAYENTA_DEFAULT_CONFIG)).toBe(true);
    expect(kayentaStageFails(80, false, KAYENTA_DEFAULT_CONFIG)).toBe(false);
    expect(kayentaStageFails(80, true, KAYENTA_DEFAULT_CONFIG)).toBe(true);
    expect(kayentaStageFails(100, true, KAYENTA_DEFAULT_CONFIG)).toBe(false);
  });

  it('judges per-minute 5xx shares and p95s of a growing window', () => {
    const stable = baseline.map((rate) => minuteCounts(20, Math.round(rate * 20)));
    const canary = muchWorse.map((rate) => minuteCounts(20, Math.round(rate * 20)));
    expect(kayentaRun(stable, canary, buckets, KAYENTA_DEFAULT_CONFIG)).toEqual({
      errorRate: 'High',
      latencyP95: 'Pass',
      score: 50,
    });
  });
});

/** Settings of a bench with `runs` runs and the defaults of the command line. */
function settingsFor(runs: number): BenchSettings {
  return parseSettings(['--runs', String(runs)]);
}

describe('rolloutRun (our controller flow)', () => {
  const model = trafficModel(SCENARIOS[0], settingsFor(1));
  const state: JudgeState = { pValues: {}, looks: 0 };
  const always =
    (decision: Judgement['decision']) =>
    (_look: Look, _config: unknown, previous?: JudgeState): Judgement =>
      ({ decision, state: { ...(previous ?? state), looks: (previous?.looks ?? 0) + 1 } }) as Judgement;
  const config = {} as Parameters<typeof rolloutRun>[4];

  it('promotes after one PASS per step (10, 25, 50)', () => {
    const replay = new TrafficSimulator(model, 5);
    const expected = [10, 25, 50].reduce((sum, w) => sum + replay.next(w).canary.requests, 0);
    expect(rolloutRun(model, 5, settingsFor(1), always('PASS'), config)).toEqual({
      outcome: 'promoted',
      canaryRequests: expected,
      minutes: 3,
    });
  });

  it('rolls back on the first FAIL and at the step deadline without PASS', () => {
    expect(rolloutRun(model, 5, settingsFor(1), always('FAIL'), config).outcome).toBe('rolled back');
    const held = rolloutRun(model, 5, settingsFor(1), always('INSUFFICIENT'), config);
    expect(held.outcome).toBe('deadline');
    expect(held.minutes).toBe(30);
  });
});

describe('report', () => {
  const tally = (runs: number, rollbackRequests: number[], promoted = 0, deadline = 0): Tally => ({
    runs,
    rollbackRequests,
    promoted,
    deadline,
  });
  const settings = settingsFor(10);
  const results: ScenarioResult[] = [
    {
      scenario: SCENARIOS[0],
      monitoring: {
        ours: tally(10, [400]),
        flaggerHeld: tally(10, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]),
        kayenta: tally(10, []),
        flagger: tally(10, [50, 70], 8),
      },
      rollout: tally(10, [], 6, 4),
      seconds: 1,
    },
    {
      scenario: SCENARIOS[2],
      monitoring: {
        ours: tally(10, [100, 200, 300, 400, 500, 600, 700, 800, 900]),
        flaggerHeld: tally(10, []),
        kayenta: tally(10, []),
        flagger: tally(10, []),
      },
      rollout: tally(10, [120, 130, 140, 150, 160, 170, 180, 190, 200, 210]),
      seconds: 1,
    },
  ];

  it('prints rates with Wilson intervals and median canary requests', () => {
    expect(monitoringTable(results, settings).split('\n')).toEqual([
      '| Scenario | Ours (always-valid, look every min) | Flagger-style held at the weight | Kayenta-style (run every 30 min) | Flagger-style own flow 10 → 50 % |',
      '|---|---|---|---|---|',
      '| A/A (5xx 0.5 %, same latency) | 10.0 % (1.8–40.4) · 400 | 100.0 % (72.2–100.0) · 550 | 0.0 % (0.0–27.8) · – | 20.0 % (5.7–51.0) · 60 |',
      '| 5xx 0.5 % → 2 % | 90.0 % (59.6–98.2) · 500 | 0.0 % (0.0–27.8) · – | 0.0 % (0.0–27.8) · – | 0.0 % (0.0–27.8) · – |',
    ]);
    expect(rolloutTable(results).split('\n')[2]).toBe(
      '| A/A (5xx 0.5 %, same latency) | 60.0 % | 0.0 % (0.0–27.8) · – | 40.0 % |',
    );
  });

  it('says PASS or MISS for each target', () => {
    expect(targetLines(results, settings)).toEqual([
      {
        met: false,
        line: 'false rollbacks on A/A, monitoring 5,000 canary requests: 10.0 % (target ≤ 5.0 %)',
      },
      {
        met: true,
        line: 'false rollbacks on A/A (FAIL), rollout 10 → 25 → 50 → 100: 0.0 % (target ≤ 5.0 %)',
      },
      {
        met: false,
        line: '5xx 0.5 % → 2 % detected within 5,000 canary requests: 90.0 % (target ≥ 95.0 %)',
      },
    ]);
  });

  it('notes loudly when healthy rollouts are not promoted', () => {
    expect(rolloutNote(results, settings)).toBe(
      'only 60.0 % of A/A rollouts were promoted; 40.0 % found no PASS within the 30-min step deadline and ' +
        'were rolled back (onDeadline: rollback)',
    );
    const promoted = [{ ...results[0], rollout: tally(10, [], 10, 0) }];
    expect(rolloutNote(promoted, settings)).toBeNull();
  });

  it('medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('options', () => {
  it('has the defaults of issue #10', () => {
    const s = parseSettings([]);
    expect([s.runs, s.seed, s.requestsPerMinute, s.canaryWeight, s.horizonCanaryRequests]).toEqual([
      1000, 1, 200, 10, 5000,
    ]);
    expect(s.kayenta.intervalMinutes).toBe(30);
    expect(s.rollout).toEqual({ steps: [10, 25, 50, 100], stepDeadlineMinutes: 30 });
  });

  it('names the flag of a bad value', () => {
    expect(() => parseSettings(['--runs', 'abc'])).toThrow(
      '--runs must be an integer from 1 to 1000000, got "abc"',
    );
    expect(() => parseSettings(['--canary-weight', '0'])).toThrow(
      '--canary-weight must be an integer from 1 to 99, got "0"',
    );
    expect(() => parseSettings(['--bogus'])).toThrow("Unknown option '--bogus'");
  });
});
