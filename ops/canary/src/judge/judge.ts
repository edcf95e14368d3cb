/**
 * The judge: one look at a running canary (cumulative counts of both versions since the canary started)
 * → PASS, FAIL, INSUFFICIENT or HOLD, with the numbers behind it and the words that explain it. No I/O;
 * the controller carries {@link JudgeState} from one look to the next.
 *
 * How a look is decided (design contract, "Statistics decisions"):
 * 1. Sample-ratio mismatch first: Pearson's chi-square (1 dof) of canary vs stable visitors against the
 *    configured canary weight; p < srmAlpha → HOLD (the split is broken, so nothing else can be trusted).
 *    Without visitors the check is skipped (`srm.checked = false`), never a HOLD.
 * 2. Guardrails, canary vs stable, each at alpha / k (Bonferroni over the k enabled guardrails):
 *    error_rate (share of 5xx answers), latency_slo (share of requests slower than latency.sloSeconds,
 *    read from the histogram bucket with that bound), latency_rank (optional; Mann–Whitney AUC − 0.5 on
 *    the bucketed latency) and agreement (optional; share of "wrong" feedback). Each estimate (canary −
 *    stable, larger is worse) gets an always-valid (1 − alpha/k) confidence sequence from the Gaussian
 *    mixture with τ = the guardrail's margin (src/stats/mixture.ts) and a one-sided always-valid p-value
 *    of H0 "the canary is no worse" (θ ≤ 0): 1/Λ(0) capped at 1 when θ̂ > 0, else 1 — the smallest alpha
 *    at which the sequence's lower bound exceeds 0. The p-value reported is the running minimum over the
 *    looks (JudgeState), which keeps it valid under optional stopping (Johari et al., arXiv:1512.04922).
 *    - FAIL when the lower bound is > 0 now, or the running-minimum p-value fell below alpha/k at an
 *      earlier look (the sequence's lower bound was > 0 then): the canary is surely worse, by any amount.
 *      No minimum count: the mixture is slow to reject on little data by construction.
 *    - PASS when the upper bound is < margin (non-inferior) and each arm has the minimum count.
 *    - INSUFFICIENT otherwise, and whenever an arm has no trials (missing data is never a failure).
 * 3. Look decision: HOLD on a sample-ratio mismatch; else FAIL if any guardrail FAILs; PASS if every
 *    guardrail named in `passRequires` PASSes (by default error_rate and latency_slo: the others watch for
 *    harm on data too sparse to prove its absence in time, see defaults.ts); INSUFFICIENT otherwise.
 * 4. The People experiment (click-through with Wilson intervals, views per arm still needed for the
 *    minimum detectable effect) is reported and never changes the decision.
 *
 * State: every look increments `looks`; the p-values' running minima are updated except on HOLD (data
 * the judge does not trust leaves no mark on later looks).
 */
import { checkCount, checkOpenUnit, checkPositive, checkShare } from '../stats/checks.js';
import {
  bucketCounts,
  chiSquareOneDof,
  confidenceSequence,
  differenceOfProportions,
  mannWhitneyBucketed,
  mixtureSprt,
  sampleSizeTwoProportions,
  wilsonInterval,
} from '../stats/index.js';
import { proportionReason, rankReason, summarize, type ProportionWording } from './explain.js';
import type {
  ArmCounts,
  Decision,
  ExperimentArm,
  ExperimentReport,
  GuardrailName,
  GuardrailResult,
  JudgeConfig,
  JudgeState,
  Judgement,
  LatencyHistogram,
  Look,
  SrmResult,
  VersionCounts,
} from './types.js';

/**
 * Judges one look.
 *
 * @param look cumulative counts of both versions since the canary started, and the configured canary
 *   weight in percent (0–100).
 * @param config statistics settings (see DEFAULT_JUDGE_CONFIG).
 * @param state what the previous look returned in `Judgement.state`; omitted for the first look.
 * @returns the decision, per-guardrail results, the SRM check, the experiment report, a summary, and the
 *   state to pass to the next look.
 * @throws RangeError when a count is negative, NaN or infinite, errors exceed requests, the weight is
 *   outside [0, 100], a histogram is malformed or the two versions' bounds differ, latency.sloSeconds is
 *   not one of the histogram's bounds, the config has a value out of range, or the state holds a p-value
 *   outside [0, 1].
 */
export function judge(look: Look, config: JudgeConfig, state?: JudgeState): Judgement {
  checkConfig(config);
  checkLook(look);
  const previous = checkState(state);

  const srm = sampleRatioCheck(look, config.srmAlpha);
  const enabled = enabledGuardrails(config);
  const alpha = config.alpha / enabled.length;
  const latency = alignedLatency(look.stable.latency, look.canary.latency);

  const guardrails = enabled.map((name): GuardrailResult => {
    const earlier = previous.pValues[name];
    switch (name) {
      case 'error_rate':
        return proportionGuardrail(
          name,
          { x: look.stable.errors, n: look.stable.requests },
          { x: look.canary.errors, n: look.canary.requests },
          { margin: config.errorRate.margin, minCount: config.errorRate.minRequests, alpha, earlier },
          { event: '5xx', unit: 'requests' },
        );
      case 'latency_slo': {
        const counts = latency ? slowCounts(latency, config.latency.sloSeconds) : undefined;
        return proportionGuardrail(
          name,
          counts?.stable ?? { x: 0, n: 0 },
          counts?.canary ?? { x: 0, n: 0 },
          { margin: config.latency.margin, minCount: config.latency.minRequests, alpha, earlier },
          { event: `slower than ${config.latency.sloSeconds} s`, unit: 'requests' },
        );
      }
      case 'latency_rank':
        return rankGuardrail(latency, {
          margin: config.latency.margin,
          minCount: config.latency.minRequests,
          alpha,
          earlier,
        });
      case 'agreement':
        return proportionGuardrail(
          name,
          feedback(look.stable),
          feedback(look.canary),
          { margin: config.agreement.margin, minCount: config.agreement.minFeedback, alpha, earlier },
          { event: 'wrong feedback', unit: 'answers' },
        );
    }
  });

  const decision = decide(srm, guardrails, config.passRequires);
  const experiment = experimentReport(look, config.experiment);
  const pValues =
    decision === 'HOLD'
      ? { ...previous.pValues }
      : { ...previous.pValues, ...Object.fromEntries(guardrails.map((g) => [g.name, g.pValue])) };
  return {
    decision,
    summary: summarize(decision, srm, config.srmAlpha, guardrails, experiment),
    srm,
    guardrails,
    experiment,
    state: { pValues, looks: previous.looks + 1 },
  };
}

/** The guardrails the config turns on, in report order. */
export function enabledGuardrails(config: JudgeConfig): GuardrailName[] {
  const names: GuardrailName[] = ['error_rate', 'latency_slo'];
  if (config.latency.rankTest) names.push('latency_rank');
  if (config.agreement.enabled) names.push('agreement');
  return names;
}

/**
 * HOLD on SRM, else FAIL if any guardrail FAILs, PASS if every guardrail of `passRequires` that is
 * enabled PASSes, else INSUFFICIENT.
 */
function decide(srm: SrmResult, guardrails: GuardrailResult[], passRequires: GuardrailName[]): Decision {
  if (srm.mismatch) return 'HOLD';
  if (guardrails.some((g) => g.verdict === 'FAIL')) return 'FAIL';
  const required = guardrails.filter((g) => passRequires.includes(g.name));
  if (required.length > 0 && required.every((g) => g.verdict === 'PASS')) return 'PASS';
  return 'INSUFFICIENT';
}

/** Chi-square of canary vs stable visitors against the configured weight; unchecked without visitors. */
function sampleRatioCheck(look: Look, srmAlpha: number): SrmResult {
  const stableVisitors = look.stable.visitors;
  const canaryVisitors = look.canary.visitors;
  const expectedShare = look.canaryWeight / 100;
  const total = stableVisitors + canaryVisitors;
  if (total === 0) {
    return {
      checked: false,
      expectedShare,
      observedShare: NaN,
      chiSquare: 0,
      pValue: 1,
      mismatch: false,
      stableVisitors,
      canaryVisitors,
    };
  }
  const { statistic, pValue } = chiSquareOneDof(
    [canaryVisitors, stableVisitors],
    [expectedShare, 1 - expectedShare],
  );
  return {
    checked: true,
    expectedShare,
    observedShare: canaryVisitors / total,
    chiSquare: statistic,
    pValue,
    mismatch: pValue < srmAlpha,
    stableVisitors,
    canaryVisitors,
  };
}

/** What every guardrail needs besides its counts. */
interface GuardrailSettings {
  margin: number;
  minCount: number;
  /** alpha / k. */
  alpha: number;
  /** Running minimum of the p-value before this look. */
  earlier: number | undefined;
}

/** One-sided always-valid p-value of θ ≤ 0 at this look (see the module comment). */
function oneSidedPValue(estimate: number, variance: number, tau: number): number {
  return estimate > 0 ? mixtureSprt({ estimate, variance, tau, theta0: 0 }).pValue : 1;
}

/** PASS/FAIL/INSUFFICIENT from the bounds, the running-minimum p-value and the counts. */
function verdictOf(
  interval: [number, number],
  settings: GuardrailSettings,
  stable: ArmCounts,
  canary: ArmCounts,
): { verdict: GuardrailResult['verdict']; failedEarlier: boolean } {
  const failedNow = interval[0] > 0;
  const failedEarlier = !failedNow && settings.earlier !== undefined && settings.earlier < settings.alpha;
  if (failedNow || failedEarlier) return { verdict: 'FAIL', failedEarlier };
  const enough = stable.n >= settings.minCount && canary.n >= settings.minCount;
  return { verdict: enough && interval[1] < settings.margin ? 'PASS' : 'INSUFFICIENT', failedEarlier };
}

/** error_rate, latency_slo or agreement: canary − stable share of events. */
function proportionGuardrail(
  name: GuardrailName,
  stable: ArmCounts,
  canary: ArmCounts,
  settings: GuardrailSettings,
  wording: ProportionWording,
): GuardrailResult {
  let estimate = NaN;
  let interval: [number, number] = [-1, 1];
  let pValue = settings.earlier ?? 1;
  if (stable.n > 0 && canary.n > 0) {
    const difference = differenceOfProportions(stable, canary);
    estimate = difference.estimate;
    const [low, high] = confidenceSequence({ ...difference, tau: settings.margin, alpha: settings.alpha });
    interval = [Math.max(-1, low), Math.min(1, high)];
    pValue = Math.min(pValue, oneSidedPValue(estimate, difference.variance, settings.margin));
  }
  const { verdict, failedEarlier } = verdictOf(interval, settings, stable, canary);
  const result: GuardrailResult = {
    name,
    verdict,
    estimate,
    interval,
    pValue,
    margin: settings.margin,
    stable,
    canary,
    reason: '',
  };
  result.reason = proportionReason(result, wording, {
    alpha: settings.alpha,
    minCount: settings.minCount,
    failedEarlier,
  });
  return result;
}

/**
 * latency_rank: AUC − 0.5 of the canary against stable on the bucketed latency, variance
 * Var U / (n_c n_s)² (the tie-corrected null variance), τ = latency margin. When every request of both
 * versions is in one bucket there is nothing to rank: estimate 0 with the interval [0, 0].
 * `stable`/`canary` hold the requests in the histograms as n (x is 0: the rank test has no events).
 */
function rankGuardrail(
  latency: { stable: LatencyHistogram; canary: LatencyHistogram } | undefined,
  settings: GuardrailSettings,
): GuardrailResult {
  const total = (h: LatencyHistogram | undefined) =>
    h && h.counts.length > 0 ? h.counts[h.counts.length - 1] : 0;
  const stable: ArmCounts = { n: total(latency?.stable), x: 0 };
  const canary: ArmCounts = { n: total(latency?.canary), x: 0 };
  let estimate = NaN;
  let interval: [number, number] = [-0.5, 0.5];
  let pValue = settings.earlier ?? 1;
  let allTied = false;
  if (latency && stable.n > 0 && canary.n > 0) {
    const test = mannWhitneyBucketed(latency.stable, latency.canary);
    estimate = test.auc - 0.5;
    if (test.varianceU === 0) {
      allTied = true;
      interval = [0, 0];
    } else {
      const variance = test.varianceU / (stable.n * canary.n) ** 2;
      const [low, high] = confidenceSequence({
        estimate,
        variance,
        tau: settings.margin,
        alpha: settings.alpha,
      });
      interval = [Math.max(-0.5, low), Math.min(0.5, high)];
      pValue = Math.min(pValue, oneSidedPValue(estimate, variance, settings.margin));
    }
  }
  const { verdict, failedEarlier } = verdictOf(interval, settings, stable, canary);
  const result: GuardrailResult = {
    name: 'latency_rank',
    verdict,
    estimate,
    interval,
    pValue,
    margin: settings.margin,
    stable,
    canary,
    reason: '',
  };
  result.reason = rankReason(
    result,
    { alpha: settings.alpha, minCount: settings.minCount, failedEarlier },
    allTied,
  );
  return result;
}

/**
 * Both versions' latency histograms with the same bounds: a version without the series (no bounds, no
 * counts) counts as zero requests in the other's buckets. Undefined when neither has a histogram.
 * @throws RangeError when a histogram is malformed or the bounds differ.
 */
function alignedLatency(
  stable: LatencyHistogram,
  canary: LatencyHistogram,
): { stable: LatencyHistogram; canary: LatencyHistogram } | undefined {
  const empty = (h: LatencyHistogram) => h.le.length === 0 && h.counts.length === 0;
  if (empty(stable) && empty(canary)) return undefined;
  const zeros = (other: LatencyHistogram): LatencyHistogram => ({
    le: other.le,
    counts: other.le.map(() => 0),
  });
  const aligned = {
    stable: empty(stable) ? zeros(canary) : stable,
    canary: empty(canary) ? zeros(stable) : canary,
  };
  bucketCounts('stable', aligned.stable);
  bucketCounts('canary', aligned.canary);
  const same =
    aligned.stable.le.length === aligned.canary.le.length &&
    aligned.stable.le.every((bound, i) => bound === aligned.canary.le[i]);
  if (!same) {
    throw new RangeError(
      `stable and canary latency histograms have different bucket bounds: [${aligned.stable.le.join(', ')}] and [${aligned.canary.le.join(', ')}]`,
    );
  }
  return aligned;
}

/**
 * Requests slower than the SLO per version: total − the cumulative count at the bound `sloSeconds`.
 * @throws RangeError when sloSeconds is not one of the bounds (within 1e−9 relative).
 */
function slowCounts(
  latency: { stable: LatencyHistogram; canary: LatencyHistogram },
  sloSeconds: number,
): { stable: ArmCounts; canary: ArmCounts } {
  const { le } = latency.stable;
  const index = le.findIndex((bound) => Math.abs(bound - sloSeconds) <= 1e-9 * Math.max(1, sloSeconds));
  if (index < 0) {
    throw new RangeError(
      `latency.sloSeconds ${sloSeconds} is not a bucket bound of the latency histogram (bounds in seconds: ${le.join(', ')}); set it to one of them`,
    );
  }
  const slow = (h: LatencyHistogram): ArmCounts => {
    const n = h.counts[h.counts.length - 1];
    return { x: n - h.counts[index], n };
  };
  return { stable: slow(latency.stable), canary: slow(latency.canary) };
}

/** Wrong feedback out of all feedback answers. */
function feedback(counts: VersionCounts): ArmCounts {
  return { x: counts.feedbackDisagreed, n: counts.feedbackAgreed + counts.feedbackDisagreed };
}

/**
 * The People experiment: click-through per arm with its Wilson interval, and the views per arm still
 * needed. The sample size is for a change of `minimumDetectableEffect` (absolute, in click-through) from
 * the stable click-through (the canary's when stable has no views; 0.5, the most demanding baseline, when
 * neither has any), upwards unless that would pass 1. Views per arm still needed =
 * max(0, that size − the smaller arm's views), rounded up. An arm with more clicks than views (several
 * clicks per view) has no interval ([NaN, NaN]): click-through is then not a proportion.
 */
function experimentReport(look: Look, settings: JudgeConfig['experiment']): ExperimentReport {
  const arm = ({ peopleViews: views, peopleClicks: clicks }: VersionCounts): ExperimentArm => ({
    views,
    clicks,
    clickThrough: views > 0 ? clicks / views : NaN,
    interval: clicks <= views ? wilsonInterval(clicks, views, settings.alpha) : [NaN, NaN],
  });
  const stable = arm(look.stable);
  const canary = arm(look.canary);
  const mde = settings.minimumDetectableEffect;
  const baseline = Math.min(
    1,
    stable.views > 0 ? stable.clickThrough : canary.views > 0 ? canary.clickThrough : 0.5,
  );
  const target = baseline + mde <= 1 ? baseline + mde : Math.max(0, baseline - mde);
  const needed = sampleSizeTwoProportions(baseline, target, settings.alpha, settings.power);
  return {
    stable,
    canary,
    difference: canary.clickThrough - stable.clickThrough,
    viewsPerArmNeeded: Math.max(0, Math.ceil(needed - Math.min(stable.views, canary.views))),
    minimumDetectableEffect: mde,
  };
}

/**
 * @throws RangeError naming the first setting out of range.
 */
function checkConfig(config: JudgeConfig): void {
  checkOpenUnit('config.alpha', config.alpha);
  checkOpenUnit('config.srmAlpha', config.srmAlpha);
  checkPositive('config.errorRate.margin', config.errorRate.margin);
  checkCount('config.errorRate.minRequests', config.errorRate.minRequests);
  checkPositive('config.latency.sloSeconds', config.latency.sloSeconds);
  checkPositive('config.latency.margin', config.latency.margin);
  checkCount('config.latency.minRequests', config.latency.minRequests);
  checkPositive('config.agreement.margin', config.agreement.margin);
  checkCount('config.agreement.minFeedback', config.agreement.minFeedback);
  checkOpenUnit('config.experiment.alpha', config.experiment.alpha);
  checkOpenUnit('config.experiment.power', config.experiment.power);
  checkOpenUnit('config.experiment.minimumDetectableEffect', config.experiment.minimumDetectableEffect);
  for (const [name, value] of [
    ['config.latency.rankTest', config.latency.rankTest],
    ['config.agreement.enabled', config.agreement.enabled],
  ] as const) {
    if (typeof value !== 'boolean')
      throw new RangeError(`${name} must be true or false, got ${String(value)}`);
  }
}

/**
 * @throws RangeError naming the first bad count of the look.
 */
function checkLook(look: Look): void {
  for (const version of ['stable', 'canary'] as const) {
    const counts = look[version];
    for (const field of [
      'requests',
      'errors',
      'feedbackAgreed',
      'feedbackDisagreed',
      'peopleViews',
      'peopleClicks',
      'visitors',
    ] as const) {
      checkCount(`look.${version}.${field}`, counts[field]);
    }
    if (counts.errors > counts.requests) {
      throw new RangeError(
        `look.${version}.errors (${counts.errors}) must not exceed look.${version}.requests (${counts.requests})`,
      );
    }
    if (!counts.latency || !Array.isArray(counts.latency.le) || !Array.isArray(counts.latency.counts)) {
      throw new RangeError(`look.${version}.latency must have le and counts arrays`);
    }
  }
  const weight = look.canaryWeight;
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 100)) {
    throw new RangeError(`look.canaryWeight must be a percentage in [0, 100], got ${String(weight)}`);
  }
}

/**
 * The previous state, or an empty one.
 * @throws RangeError when a p-value is outside [0, 1] or looks is not a count.
 */
function checkState(state: JudgeState | undefined): JudgeState {
  if (state === undefined) return { pValues: {}, looks: 0 };
  checkCount('state.looks', state.looks);
  if (!state.pValues || typeof state.pValues !== 'object') {
    throw new RangeError(`state.pValues must be an object of p-values, got ${String(state.pValues)}`);
  }
  for (const [name, p] of Object.entries(state.pValues)) checkShare(`state.pValues.${name}`, p as number);
  return state;
}
