/**
 * The reports of one look, compared character for character on a fixed Judgement: Markdown, terminal
 * text and JSON; the SRM sentence in its three states; number formats; and `canary plan`'s table, whose
 * sample sizes were checked against SciPy (Fleiss' formula with scipy.stats.norm.ppf: 1881, 945, 27031,
 * 14751 for the rows below).
 */
import { describe, expect, test } from '@jest/globals';
import { pValue, signed } from '../src/report/format.js';
import { duration, planSampleSizes, renderPlan } from '../src/report/plan.js';
import { renderJson, renderMarkdown, renderText, srmLine, type ReportInput } from '../src/report/render.js';
import { sampleSizeTwoProportions } from '../src/stats/index.js';
import { FIXED_JUDGEMENT, TEST_JUDGE_CONFIG, versionCounts } from './support/judgements.js';

const INPUT: ReportInput = {
  target: { namespace: 'rs', stableVersion: 'v1', canaryVersion: 'v2', component: 'app', source: 'service' },
  window: { start: Date.UTC(2024, 4, 1, 9), end: Date.UTC(2024, 4, 1, 10) },
  judgement: FIXED_JUDGEMENT,
};

const SUMMARY =
  'FAIL: error_rate: canary 5xx 2.10% vs stable 0.50%; the always-valid interval [+0.20, +3.00] points lies above 0.';

describe('reports', () => {
  test('Markdown', () => {
    expect(renderMarkdown(INPUT)).toBe(
      [
        '# Canary analysis: app v2 against stable v1',
        '',
        `**Decision: FAIL.** ${SUMMARY}`,
        '',
        'Counts from 2024-05-01T09:00:00.000Z to 2024-05-01T10:00:00.000Z (look 3).',
        '',
        'Sample ratio: canary got 10.24% of 5,000 visitors, 10.00% expected (chi-square 0.32, p = 0.5716): consistent with the configured split.',
        '',
        '## Guardrails',
        '',
        '| Guardrail | Verdict | Estimate (canary − stable) | Always-valid interval | p-value | Margin | Canary | Stable |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        '| error rate (5xx) | FAIL | +1.60 pp | [+0.20, +3.00] pp | 0.0012 | 0.50 pp | 21 / 1,000 | 45 / 9,000 |',
        '| slower than SLO | PASS | −0.10 pp | [−1.20, +0.90] pp | 0.9000 | 2.00 pp | 99 / 1,000 | 900 / 9,000 |',
        '| latency rank (AUC − 0.5) | INSUFFICIENT | +0.012 | [−0.031, +0.056] | <0.0001 | 0.050 | n = 1,000 | n = 9,000 |',
        '',
        '- error rate (5xx): canary 5xx 2.10% vs stable 0.50% (+1.60 points)',
        '- slower than SLO: slower than 0.5 s: canary 9.90% vs stable 10.00%',
        '- latency rank (AUC − 0.5): P(canary slower) − 0.5 = +0.012',
        '',
        '## People experiment',
        '',
        'Reported only: the experiment never blocks a rollback, never promotes, and is compared by rates, never by totals.',
        '',
        '| Arm | Views | Clicks | Click-through | Interval |',
        '| --- | --- | --- | --- | --- |',
        '| stable | 8,976 | 898 | 10.00% | [9.39%, 10.65%] |',
        '| canary | 1,024 | 123 | 12.01% | [10.13%, 14.18%] |',
        '',
        'Difference (canary − stable): +2.01 pp. Views per arm still needed to detect 2.00 pp: 1,850.',
        '',
      ].join('\n'),
    );
  });

  test('terminal text', () => {
    expect(renderText(INPUT)).toBe(
      [
        'Canary analysis: app v2 against stable v1',
        '',
        `Decision: FAIL. ${SUMMARY}`,
        'Counts from 2024-05-01T09:00:00.000Z to 2024-05-01T10:00:00.000Z (look 3).',
        'Sample ratio: canary got 10.24% of 5,000 visitors, 10.00% expected (chi-square 0.32, p = 0.5716): consistent with the configured split.',
        '',
        'Guardrails',
        'Guardrail                 Verdict       Estimate (canary − stable)  Always-valid interval  p-value  Margin   Canary      Stable',
        '------------------------  ------------  --------------------------  ---------------------  -------  -------  ----------  -----------',
        'error rate (5xx)          FAIL          +1.60 pp                    [+0.20, +3.00] pp      0.0012   0.50 pp  21 / 1,000  45 / 9,000',
        'slower than SLO           PASS          −0.10 pp                    [−1.20, +0.90] pp      0.9000   2.00 pp  99 / 1,000  900 / 9,000',
        'latency rank (AUC − 0.5)  INSUFFICIENT  +0.012                      [−0.031, +0.056]       <0.0001  0.050    n = 1,000   n = 9,000',
        '',
        '  error rate (5xx): canary 5xx 2.10% vs stable 0.50% (+1.60 points)',
        '  slower than SLO: slower than 0.5 s: canary 9.90% vs stable 10.00%',
        '  latency rank (AUC − 0.5): P(canary slower) − 0.5 = +0.012',
        '',
        'People experiment',
        'Reported only: the experiment never blocks a rollback, never promotes, and is compared by rates, never by totals.',
        'Arm     Views  Clicks  Click-through  Interval',
        '------  -----  ------  -------------  ----------------',
        'stable  8,976  898     10.00%         [9.39%, 10.65%]',
        'canary  1,024  123     12.01%         [10.13%, 14.18%]',
        'Difference (canary − stable): +2.01 pp. Views per arm still needed to detect 2.00 pp: 1,850.',
        '',
      ].join('\n'),
    );
  });

  test('JSON is the Judgement plus target and window; NaN becomes null', () => {
    const judgement = {
      ...FIXED_JUDGEMENT,
      srm: { ...FIXED_JUDGEMENT.srm, checked: false, observedShare: Number.NaN },
    };
    const json = renderJson({ ...INPUT, judgement });
    expect(json.endsWith('}\n')).toBe(true);
    expect(JSON.parse(json)).toEqual({
      target: INPUT.target,
      window: { start: '2024-05-01T09:00:00.000Z', end: '2024-05-01T10:00:00.000Z' },
      ...FIXED_JUDGEMENT,
      srm: { ...FIXED_JUDGEMENT.srm, checked: false, observedShare: null },
    });
  });

  test('the SRM sentence: unchecked, consistent, mismatch', () => {
    const srm = FIXED_JUDGEMENT.srm;
    expect(srmLine({ ...srm, checked: false })).toBe('Sample ratio: not checked (no visitors counted).');
    expect(srmLine({ ...srm, observedShare: 0.2, chiSquare: 555.56, pValue: 1e-12, mismatch: true })).toBe(
      'Sample ratio: canary got 20.00% of 5,000 visitors, 10.00% expected (chi-square 555.56, p = <0.0001): ' +
        'MISMATCH. The split is not the configured one, so nothing else can be trusted and the look is held.',
    );
  });

  test('number formats', () => {
    expect(signed(-0.00001, 2)).toBe('0.00');
    expect(signed(-1.5, 1)).toBe('−1.5');
    expect(signed(Number.NaN, 2)).toBe('n/a');
    expect(pValue(0.00009)).toBe('<0.0001');
    expect(pValue(1)).toBe('1.0000');
    expect(duration(undefined)).toBe('never (no traffic)');
    expect(duration(0.001)).toBe('1 min');
    expect(duration(47.94)).toBe('47.9 h');
    expect(duration(50)).toBe('2.1 days');
  });
});

describe('plan', () => {
  const look = {
    stable: versionCounts(9000, 4500, 45),
    canary: versionCounts(1000, 500, 10),
    canaryWeight: 10,
    time: 0,
  };
  const input = {
    look,
    windowMs: 3_600_000,
    currentWeight: 10,
    steps: [10, 25, 50],
    judgeConfig: TEST_JUDGE_CONFIG,
    minimumDetectableEffect: 0.01,
    power: 0.8,
    sampleSize: sampleSizeTwoProportions,
  };

  test('needs per arm (checked against SciPy) and durations at the current weight and at each step', () => {
    const rows = planSampleSizes(input);
    expect(rows.map((r) => [r.quantity, r.baseline, r.perArm, r.usersPerArm])).toEqual([
      ['error rate (5xx)', 0.005, 1881, undefined],
      ['slower than 0.5 s', 0, 945, undefined],
      ['wrong feedback', 1 / 6, 27031, undefined],
      ['People click-through', 0.1, 14751, 7376],
    ]);
    expect(renderPlan(input, rows)).toBe(
      [
        'To detect an increase of 1.00 percentage points with power 0.8 (traffic and baselines of the last 60 min):',
        '',
        'Comparison            Counted           Stable now  Needed per arm        At 10% (now)  At 10%     At 25%    At 50%',
        '--------------------  ----------------  ----------  --------------------  ------------  ---------  --------  --------',
        'error rate (5xx)      requests          0.50%       1,881                 1.9 h         1.9 h      46 min    23 min',
        'slower than 0.5 s     requests          0.00%       945                   57 min        57 min     23 min    12 min',
        'wrong feedback        feedback answers  16.67%      27,031                18.8 days     18.8 days  7.5 days  3.8 days',
        'People click-through  page views        10.00%      14,751 (7,376 users)  14.8 h        14.8 h     5.9 h     3.0 h',
        '',
        'Fixed-horizon sample sizes (Fleiss et al. §4.2) at the judge’s level per guardrail; the always-valid',
        'tests of `canary run` look at every interval and need somewhat more. Durations count from zero and',
        'assume the traffic of the window, split by the weight.',
        '',
      ].join('\n'),
    );
  });

  test('without stable traffic or with a canary at 0 % it says so instead of inventing a number', () => {
    const empty = versionCounts(0, 0);
    const rows = planSampleSizes({ ...input, look: { ...look, stable: empty, canary: empty } });
    expect(rows[0]).toEqual({
      quantity: 'error rate (5xx)',
      unit: 'requests',
      hoursAtSteps: [undefined, undefined, undefined],
      note: 'no stable requests in the window',
    });
    const atZero = planSampleSizes({ ...input, currentWeight: 0, look: { ...look, canary: empty } });
    expect(atZero[0].hoursNow).toBeUndefined();
    expect(atZero[0].note).toBe('no canary requests at the current weight');
    expect(atZero[0].hoursAtSteps).toEqual([1881 / 900, 1881 / 2250, 1881 / 4500]);
  });
});
