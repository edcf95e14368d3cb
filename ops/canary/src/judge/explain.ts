/**
 * The words of a judgement: one sentence per guardrail (`reason`), one for the sample-ratio check and
 * the People experiment, and the look's `summary`. Numbers are formatted the same way everywhere:
 * shares as percentages with two decimals, differences in percentage points with a sign, counts with
 * thousands separators, p-values with two significant digits (exponent form below 0.001).
 */
import type { ExperimentReport, GuardrailName, GuardrailResult, SrmResult, Verdict } from './types.js';

/** "1,234,567", or "1,234.5" for the fractional counts Prometheus' increase() gives. */
export function formatCount(count: number): string {
  const text = Number.isInteger(count) ? String(count) : count.toFixed(1);
  const [whole, fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** A share as a percentage: 0.0213 → "2.13%"; NaN → "n/a". */
export function formatPercent(share: number, decimals = 2): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(decimals)}%` : 'n/a';
}

/** A difference of shares in signed percentage points: 0.015 → "+1.50"; −0.0062 → "-0.62". */
export function formatPoints(difference: number): string {
  if (!Number.isFinite(difference)) return 'n/a';
  const text = (difference * 100).toFixed(2);
  if (text === '-0.00') return '+0.00';
  return text.startsWith('-') ? text : `+${text}`;
}

/** A p-value or level: 0.0125 → "0.0125", 0.8471 → "0.85", 0.000164 → "1.6e-4", 0 → "0". */
export function formatProbability(p: number): string {
  if (p === 0 || p === 1) return String(p);
  if (p < 0.001) {
    const [mantissa, exponent] = p.toExponential(1).split('e');
    return `${mantissa}e${Number(exponent)}`;
  }
  return String(Number(p.toPrecision(p < 0.1 ? 3 : 2)));
}

/** A confidence level in percent: 0.9875 → "98.75%", 0.95 → "95%". */
export function formatLevel(level: number): string {
  return `${Number((level * 100).toFixed(2))}%`;
}

/** What a proportion guardrail counts, for its sentence. */
export interface ProportionWording {
  /** The event, after "canary": "5xx", "slower than 0.25 s", "wrong feedback". */
  event: string;
  /** The trials: "requests", "answers". */
  unit: string;
}

/** Everything a guardrail's reason needs beyond its result. */
export interface ReasonContext {
  /** The guardrail's share of alpha (alpha / enabled guardrails). */
  alpha: number;
  /** Trials each arm needs before the guardrail may PASS. */
  minCount: number;
  /** The always-valid p-value had fallen below alpha at an earlier look (and the bound is not > 0 now). */
  failedEarlier: boolean;
}

/** "[+0.38, +2.62] points" */
function interval(result: GuardrailResult): string {
  return `[${formatPoints(result.interval[0])}, ${formatPoints(result.interval[1])}] points`;
}

/** The verdict's clause, shared by the proportion and rank guardrails. */
function verdictClause(result: GuardrailResult, context: ReasonContext, unit: string): string {
  const p = `p = ${formatProbability(result.pValue)}`;
  const alpha = formatProbability(context.alpha);
  if (result.verdict === 'FAIL') {
    return context.failedEarlier
      ? `the always-valid p-value fell below ${alpha} at an earlier look (${p}): the canary is worse`
      : `lower bound above 0 (${p} < ${alpha}): the canary is worse`;
  }
  const upper = `upper bound ${formatPoints(result.interval[1])}`;
  const margin = `margin ${formatPoints(result.margin)} points`;
  if (result.verdict === 'PASS') return `${upper} < ${margin} (${p}): no worse within the margin`;
  const fewest = Math.min(result.stable.n, result.canary.n);
  if (fewest < context.minCount) {
    return `${p}; not decided: PASS needs ${formatCount(context.minCount)} ${unit} per arm, the smaller arm has ${formatCount(fewest)}`;
  }
  return `${p}; not decided: ${upper} not yet below the ${margin}`;
}

/**
 * The reason of error_rate, latency_slo or agreement, e.g. "canary 5xx 2.00% (40 of 2,000 requests) vs
 * stable 0.50% (90 of 18,000): +1.50 points, 98.75% always-valid interval [+0.38, +2.62] points, lower
 * bound above 0 (p = 1.6e-4 < 0.0125): the canary is worse".
 */
export function proportionReason(
  result: GuardrailResult,
  wording: ProportionWording,
  context: ReasonContext,
): string {
  const { stable, canary } = result;
  if (stable.n === 0 || canary.n === 0) {
    const missing =
      stable.n === 0 && canary.n === 0 ? 'either version' : stable.n === 0 ? 'stable' : 'the canary';
    const earlier = context.failedEarlier
      ? `; the always-valid p-value fell below ${formatProbability(context.alpha)} at an earlier look: the canary is worse`
      : '';
    return `no ${wording.unit} from ${missing} yet${earlier}`;
  }
  const share = ({ x, n }: { x: number; n: number }) => formatPercent(x / n);
  return (
    `canary ${wording.event} ${share(canary)} (${formatCount(canary.x)} of ${formatCount(canary.n)} ${wording.unit}) ` +
    `vs stable ${share(stable)} (${formatCount(stable.x)} of ${formatCount(stable.n)}): ` +
    `${formatPoints(result.estimate)} points, ${formatLevel(1 - context.alpha)} always-valid interval ${interval(result)}, ` +
    verdictClause(result, context, wording.unit)
  );
}

/**
 * The reason of latency_rank, e.g. "canary slower than stable in 53.10% of request pairs (ties half,
 * 50% = same distribution; 2,000 canary and 18,000 stable requests): +3.10 points, ...".
 */
export function rankReason(result: GuardrailResult, context: ReasonContext, allTied: boolean): string {
  const { stable, canary } = result;
  if (stable.n === 0 || canary.n === 0) {
    const missing =
      stable.n === 0 && canary.n === 0 ? 'either version' : stable.n === 0 ? 'stable' : 'the canary';
    const earlier = context.failedEarlier
      ? `; the always-valid p-value fell below ${formatProbability(context.alpha)} at an earlier look: the canary is worse`
      : '';
    return `no latency observations from ${missing} yet${earlier}`;
  }
  const counts = `${formatCount(canary.n)} canary and ${formatCount(stable.n)} stable requests`;
  if (allTied) {
    return (
      `every one of the ${counts} fell in the same latency bucket: no difference the histogram can show; ` +
      verdictClause(result, context, 'requests')
    );
  }
  return (
    `canary slower than stable in ${formatPercent(result.estimate + 0.5)} of request pairs ` +
    `(ties count half, 50% = same distribution; ${counts}): ${formatPoints(result.estimate)} points, ` +
    `${formatLevel(1 - context.alpha)} always-valid interval ${interval(result)}, ` +
    verdictClause(result, context, 'requests')
  );
}

/** The sample-ratio check in one clause. */
export function srmSentence(srm: SrmResult, srmAlpha: number): string {
  if (!srm.checked) return 'Sample ratio not checked: no visitors counted.';
  const observed =
    `the canary got ${formatPercent(srm.observedShare, 1)} of ${formatCount(srm.stableVisitors + srm.canaryVisitors)} ` +
    `new users where ${formatPercent(srm.expectedShare, 1)} was configured`;
  const test = `chi-square ${srm.chiSquare.toFixed(1)}, p = ${formatProbability(srm.pValue)}`;
  return srm.mismatch
    ? `Sample-ratio mismatch: ${observed} (${test} < ${formatProbability(srmAlpha)}), so the split is not what was configured and no guardrail can be trusted this look.`
    : `Sample ratio as configured: ${observed} (${test}).`;
}

/** The People experiment in one sentence, saying it never decides. */
export function experimentSentence(experiment: ExperimentReport): string {
  const { stable, canary } = experiment;
  if (stable.views === 0 && canary.views === 0) {
    return `People experiment (reported only, never decides): no People page views yet; ${formatCount(experiment.viewsPerArmNeeded)} views per arm needed to detect ${formatPoints(experiment.minimumDetectableEffect).slice(1)} points.`;
  }
  const arm = (name: string, a: typeof stable) =>
    `${name} ${formatPercent(a.clickThrough)} of ${formatCount(a.views)} views` +
    (Number.isFinite(a.interval[0])
      ? ` [${formatPercent(a.interval[0])}, ${formatPercent(a.interval[1])}]`
      : '');
  const needed =
    experiment.viewsPerArmNeeded > 0
      ? `${formatCount(experiment.viewsPerArmNeeded)} more views per arm needed`
      : 'enough views per arm';
  return (
    `People experiment (reported only, never decides): click-through ${arm('canary', canary)} vs ${arm('stable', stable)}, ` +
    `${formatPoints(experiment.difference)} points; ${needed} to detect ${formatPoints(experiment.minimumDetectableEffect).slice(1)} points.`
  );
}

/** "error_rate, latency_slo and agreement" */
function list(names: GuardrailName[]): string {
  return names.length <= 1
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The look's summary paragraph: the decision, the guardrails that decided it, SRM, the experiment. */
export function summarize(
  decision: Verdict | 'HOLD',
  srm: SrmResult,
  srmAlpha: number,
  guardrails: GuardrailResult[],
  experiment: ExperimentReport,
): string {
  const named = (verdict: Verdict) => guardrails.filter((g) => g.verdict === verdict).map((g) => g.name);
  let head: string;
  if (decision === 'HOLD') {
    head = `HOLD: ${srmSentence(srm, srmAlpha)}`;
  } else {
    const failed = guardrails.filter((g) => g.verdict === 'FAIL');
    if (decision === 'FAIL') {
      head =
        `FAIL: the canary is worse than stable on ${list(failed.map((g) => g.name))} — ` +
        failed.map((g) => `${g.name}: ${g.reason}`).join('; ') +
        '. Roll back.';
    } else if (decision === 'PASS') {
      const open = named('INSUFFICIENT');
      head =
        `PASS: ${list(named('PASS'))} show${named('PASS').length === 1 ? 's' : ''} the canary no worse than stable within ${named('PASS').length === 1 ? 'its margin' : 'their margins'}` +
        (open.length > 0
          ? `; ${list(open)} found nothing worse yet (not required to pass, they can still fail a later look).`
          : '.');
    } else {
      const passed = named('PASS');
      head =
        `INSUFFICIENT: no guardrail failed, but ${list(named('INSUFFICIENT'))} cannot pass yet (more data needed)` +
        (passed.length > 0 ? `; ${list(passed)} passed.` : '.');
    }
    head += ` ${srmSentence(srm, srmAlpha)}`;
  }
  return `${head} ${experimentSentence(experiment)}`;
}
