/**
 * `canary plan`: how much data each comparison needs to detect a given effect, and how long the current
 * traffic takes to collect it. Baselines (the stable version's shares) and traffic rates come from one
 * look over a recent window. Sample sizes are the fixed-horizon two-proportion formula
 * (`sampleSizeTwoProportions`, Fleiss et al. §4.2) with the judge's one-sided level per guardrail
 * (alpha / number of guardrails, Bonferroni): a lower bound, since the always-valid tests the judge runs
 * pay for looking at every interval with somewhat more data.
 */
import type { JudgeConfig, Look, VersionCounts } from '../judge/types.js';
import { integer, percent } from './format.js';

/** Computes trials per arm for proportions p1 → p2 at two-sided `alpha` and `power` (stats module). */
export type SampleSize = (p1: number, p2: number, alpha: number, power: number) => number;

/** What the plan is computed from. */
export interface PlanInput {
  /** Counts over the last `windowMs`. */
  look: Look;
  windowMs: number;
  /** The canary weight during that window (percent). */
  currentWeight: number;
  /** Weights the plan also says the duration for (the configured steps below 100). */
  steps: number[];
  judgeConfig: JudgeConfig;
  /** Absolute difference of proportions to detect (0.01 = 1 percentage point). */
  minimumDetectableEffect: number;
  power: number;
  sampleSize: SampleSize;
}

/** One comparison's needs. */
export interface PlanRow {
  quantity: string;
  /** What is counted per arm (requests, feedback answers, page views). */
  unit: string;
  /** Stable's share in the window; undefined without stable data. */
  baseline?: number;
  /** Trials per arm needed; undefined when it cannot be computed (see `note`). */
  perArm?: number;
  /** Users per arm (for the experiment: views needed / views per user), when known. */
  usersPerArm?: number;
  /**
   * Hours needed at the current weight and at each step (same order as PlanInput.steps), with the
   * window's total traffic split by the weight.
   */
  hoursNow?: number;
  hoursAtSteps: (number | undefined)[];
  note?: string;
}

/** Share of requests slower than `sloSeconds` (the first bucket bound ≥ the SLO counts as fast). */
function slowShare(v: VersionCounts, sloSeconds: number): { n: number; x: number } {
  const { le, counts } = v.latency;
  const n = counts[counts.length - 1] ?? 0;
  let fast = 0;
  for (let i = 0; i < le.length; i++) if (le[i] <= sloSeconds) fast = counts[i];
  return { n, x: n - fast };
}

/**
 * Hours until the slower arm has `perArm` trials, when the arms get `rateStable` and `rateCanary` trials per
 * hour; undefined when an arm gets none.
 */
function hours(perArm: number, rateStable: number, rateCanary: number): number | undefined {
  const slower = Math.min(rateStable, rateCanary);
  return slower > 0 ? perArm / slower : undefined;
}

/** Builds the plan (one row per guardrail, and the experiment). */
export function planSampleSizes(input: PlanInput): PlanRow[] {
  const { look, judgeConfig: config, minimumDetectableEffect: mde, power } = input;
  const windowHours = input.windowMs / 3_600_000;
  const guardrails = 2 + (config.latency.rankTest ? 1 : 0) + (config.agreement.enabled ? 1 : 0);
  // One-sided level alpha/k per guardrail = two-sided level 2·alpha/k in the sample-size formula.
  const guardrailAlpha = Math.min(0.999, (2 * config.alpha) / guardrails);
  const rows: PlanRow[] = [];

  const row = (
    quantity: string,
    unit: string,
    stable: { n: number; x: number },
    canary: { n: number; x: number },
    alpha: number,
  ): PlanRow => {
    const result: PlanRow = { quantity, unit, hoursAtSteps: input.steps.map(() => undefined) };
    if (stable.n === 0) return { ...result, note: `no stable ${unit} in the window` };
    const p1 = stable.x / stable.n;
    result.baseline = p1;
    const p2 = p1 + mde;
    if (p2 > 1) return { ...result, note: `baseline + effect is above 100%` };
    const perArm = input.sampleSize(p1, p2, alpha, power);
    result.perArm = perArm;
    const rateStable = stable.n / windowHours;
    const rateCanary = canary.n / windowHours;
    const total = rateStable + rateCanary;
    // At the current weight, like the steps: the window's total traffic split by the weight (so weight 0
    // says never, whatever the canary answered before).
    const now = input.currentWeight;
    result.hoursNow = hours(perArm, (total * (100 - now)) / 100, (total * now) / 100);
    result.hoursAtSteps = input.steps.map((w) => hours(perArm, (total * (100 - w)) / 100, (total * w) / 100));
    if (result.hoursNow === undefined) result.note = `no canary ${unit} at the current weight`;
    return result;
  };

  const arm = (v: VersionCounts) => ({ n: v.requests, x: v.errors });
  rows.push(row('error rate (5xx)', 'requests', arm(look.stable), arm(look.canary), guardrailAlpha));
  const slo = config.latency.sloSeconds;
  rows.push(
    row(
      `slower than ${slo} s`,
      'requests',
      slowShare(look.stable, slo),
      slowShare(look.canary, slo),
      guardrailAlpha,
    ),
  );
  if (config.agreement.enabled) {
    const feedback = (v: VersionCounts) => ({
      n: v.feedbackAgreed + v.feedbackDisagreed,
      x: v.feedbackDisagreed,
    });
    rows.push(
      row('wrong feedback', 'feedback answers', feedback(look.stable), feedback(look.canary), guardrailAlpha),
    );
  }
  const views = (v: VersionCounts) => ({ n: v.peopleViews, x: v.peopleClicks });
  const experiment = row(
    'People click-through',
    'page views',
    views(look.stable),
    views(look.canary),
    config.experiment.alpha,
  );
  const visitors = look.stable.visitors + look.canary.visitors;
  const pageViews = look.stable.peopleViews + look.canary.peopleViews;
  if (experiment.perArm !== undefined && visitors > 0 && pageViews > 0) {
    experiment.usersPerArm = Math.ceil(experiment.perArm / (pageViews / visitors));
  }
  rows.push(experiment);
  return rows;
}

/** "45 min", "3.2 h", "2.5 days"; "never" for undefined (no traffic). */
export function duration(hoursNeeded: number | undefined): string {
  if (hoursNeeded === undefined) return 'never (no traffic)';
  if (hoursNeeded < 1) return `${Math.max(1, Math.ceil(hoursNeeded * 60))} min`;
  if (hoursNeeded < 48) return `${hoursNeeded.toFixed(1)} h`;
  return `${(hoursNeeded / 24).toFixed(1)} days`;
}

/** The plan as plain text (ends with a newline). */
export function renderPlan(input: PlanInput, rows: PlanRow[]): string {
  const header = [
    'Comparison',
    'Counted',
    'Stable now',
    'Needed per arm',
    `At ${integer(input.currentWeight)}% (now)`,
    ...input.steps.map((w) => `At ${w}%`),
  ];
  const body = rows.map((r) => [
    r.quantity,
    r.unit,
    r.baseline === undefined ? 'n/a' : percent(r.baseline),
    r.perArm === undefined
      ? `n/a (${r.note})`
      : `${integer(r.perArm)}${r.usersPerArm !== undefined ? ` (${integer(r.usersPerArm)} users)` : ''}`,
    r.perArm === undefined ? '' : duration(r.hoursNow),
    ...r.hoursAtSteps.map((h) => (r.perArm === undefined ? '' : duration(h))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const minutes = Math.round(input.windowMs / 60_000);
  return [
    `To detect an increase of ${(input.minimumDetectableEffect * 100).toFixed(2)} percentage points ` +
      `with power ${input.power} (traffic and baselines of the last ${minutes} min):`,
    '',
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    'Fixed-horizon sample sizes (Fleiss et al. §4.2) at the judge’s level per guardrail; the always-valid',
    'tests of `canary run` look at every interval and need somewhat more. Durations count from zero and',
    'assume the traffic of the window, split by the weight.',
    '',
  ].join('\n');
}
