/**
 * The judge's data model: what one look at a running canary holds, what the judge concludes, and the
 * state it carries between looks. The judge itself (judge.ts) does no I/O; the controller fills a
 * {@link Look} from Prometheus and acts on the {@link Judgement}.
 */

/** Cumulative latency histogram: `counts[i]` requests took at most `le[i]` seconds (Prometheus `_bucket`). */
export interface LatencyHistogram {
  /** Upper bounds in seconds, ascending; the last is `Infinity` (Prometheus `le="+Inf"`). */
  le: number[];
  /** Cumulative counts, same length as `le`, non-decreasing; the last equals the number of requests. */
  counts: number[];
}

/**
 * What one version did since the canary started (cumulative counts, non-negative integers). A series
 * Prometheus does not have counts as 0: missing data is no traffic, never a failure.
 */
export interface VersionCounts {
  /** HTTP requests answered on user routes (probes and /metrics left out). */
  requests: number;
  /** Of those, answers with a 5xx status. */
  errors: number;
  /** Latency of those requests. */
  latency: LatencyHistogram;
  /** Feedback saying the prediction was right (model-service `feedback_total{agrees="true"}`). */
  feedbackAgreed: number;
  /** Feedback saying the prediction was wrong (`agrees="false"`). */
  feedbackDisagreed: number;
  /** People page views (app `people_page_views_total`). */
  peopleViews: number;
  /** Clicks on a team card (app `profile_clicks_total`). */
  peopleClicks: number;
  /** Users the mesh assigned to this version (app `visitors_total`); 0 when the app does not count them. */
  visitors: number;
}

/** One look: both versions' counts since the canary started, and the split that was configured. */
export interface Look {
  stable: VersionCounts;
  canary: VersionCounts;
  /**
   * Canary share of new users over the window the visitors were counted in, in percent (0–100): the
   * weight, or the visitor-weighted average of the weights when they changed during the window.
   */
  canaryWeight: number;
  /** When the look was taken (ms since the epoch); reports only. */
  time: number;
}

/** The outcome of one guardrail, or of the whole look. */
export type Verdict = 'PASS' | 'FAIL' | 'INSUFFICIENT';

/** What the controller does after a look. HOLD: the data cannot be trusted (sample-ratio mismatch). */
export type Decision = 'PASS' | 'FAIL' | 'INSUFFICIENT' | 'HOLD';

/** Guardrails, each canary vs stable at the same time. */
export type GuardrailName = 'error_rate' | 'latency_slo' | 'latency_rank' | 'agreement';

/** Successes/trials behind a proportion guardrail, or the sample sizes behind the rank test. */
export interface ArmCounts {
  /** Trials: requests, or feedback answers. */
  n: number;
  /** Events: 5xx answers, requests slower than the SLO, or "wrong" feedback. */
  x: number;
}

/** One guardrail's result. Larger `estimate` is always worse for the canary. */
export interface GuardrailResult {
  name: GuardrailName;
  verdict: Verdict;
  /**
   * Canary minus stable: difference of proportions for error_rate, latency_slo and agreement (share of
   * "wrong" feedback); for latency_rank P(canary slower) + P(tie)/2 − 0.5.
   */
  estimate: number;
  /** Always-valid (1 − alpha) confidence interval of `estimate` (a confidence sequence), [lower, upper]. */
  interval: [number, number];
  /** Always-valid p-value of H0 "the canary is no worse" (estimate ≤ 0), running minimum over the looks. */
  pValue: number;
  /** Non-inferiority margin: PASS needs interval[1] < margin. */
  margin: number;
  stable: ArmCounts;
  canary: ArmCounts;
  /** One sentence saying why, with the numbers, e.g. "canary 5xx 2.1% vs stable 0.5% (+1.6 points, ...)". */
  reason: string;
}

/** The sample-ratio-mismatch check on users assigned (visitors), run before the guardrails. */
export interface SrmResult {
  /** False when there were no visitors to check (the app does not count them): the look is not held. */
  checked: boolean;
  /** Configured canary share of users, 0–1. */
  expectedShare: number;
  /** Observed canary share of visitors, 0–1 (NaN when unchecked). */
  observedShare: number;
  /** Pearson chi-square statistic, 1 degree of freedom. */
  chiSquare: number;
  pValue: number;
  /** p < srmAlpha: the split is not what was configured, so nothing else can be trusted. */
  mismatch: boolean;
  stableVisitors: number;
  canaryVisitors: number;
}

/** The People-page experiment, reported beside the guardrails and never deciding anything. */
export interface ExperimentArm {
  views: number;
  clicks: number;
  /** clicks / views (NaN without views). */
  clickThrough: number;
  /** Wilson score interval of clickThrough at 1 − alpha. */
  interval: [number, number];
}
export interface ExperimentReport {
  stable: ExperimentArm;
  canary: ExperimentArm;
  /** Canary minus stable click-through. */
  difference: number;
  /** Views per arm still needed to detect `minimumDetectableEffect` at the configured power (≥ 0). */
  viewsPerArmNeeded: number;
  minimumDetectableEffect: number;
}

/** Statistics settings (validated by the config loader; defaults in config/). */
export interface JudgeConfig {
  /** Family-wise chance of rolling back a canary that is no worse (split over the guardrails). */
  alpha: number;
  /** SRM threshold (e.g. 0.001). */
  srmAlpha: number;
  errorRate: { margin: number; minRequests: number };
  latency: { sloSeconds: number; margin: number; minRequests: number; rankTest: boolean };
  agreement: { enabled: boolean; margin: number; minFeedback: number };
  /**
   * Guardrails that must PASS (proven non-inferior) before the look is PASS. The other enabled
   * guardrails can still FAIL the canary, but their INSUFFICIENT does not keep it waiting: they watch for
   * harm on data that is too sparse to prove its absence in a canary's time (feedback, the rank test).
   */
  passRequires: GuardrailName[];
  experiment: { alpha: number; power: number; minimumDetectableEffect: number };
}

/** What the judge remembers between looks: the running minimum of each always-valid p-value. */
export interface JudgeState {
  pValues: Partial<Record<GuardrailName, number>>;
  looks: number;
}

/** Everything one look concluded. */
export interface Judgement {
  decision: Decision;
  /** One paragraph explaining the decision in words, naming the metrics that decided it. */
  summary: string;
  srm: SrmResult;
  guardrails: GuardrailResult[];
  experiment: ExperimentReport;
  state: JudgeState;
}
