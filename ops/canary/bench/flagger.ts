/**
 * A Flagger-style canary analysis, for comparison in `npm run bench:canary`.
 *
 * Sources: Flagger docs, "Metrics Analysis" (fluxcd.io/flagger/usage/metrics: built-in
 * `request-success-rate` with `thresholdRange.min: 99` and `request-duration` (P99, ms) with
 * `thresholdRange.max: 500`, both over `interval: 1m`) and "Deployment Strategies" (`stepWeight`,
 * `maxWeight`, `threshold`: failed checks before rollback); the decision rules follow
 * fluxcd/flagger pkg/controller/scheduler.go (`advanceCanary`, `runCanary`) and scheduler_metrics.go
 * (`runBuiltinMetricChecks`):
 * - each tick (one analysis interval) first rolls back when `failedChecks >= threshold`;
 * - the first tick only starts the canary (weight 0 → stepWeight, no analysis);
 * - a tick whose analysis fails increments `failedChecks` and keeps the weight (failed checks are never
 *   reset during a run: only a new revision resets them);
 * - a passing tick adds `stepWeight` while the weight is below `maxWeight`, and promotes once it is not;
 * - a check fails when the canary's success rate over the interval is below the minimum, its P99 is above
 *   the maximum, or the query has no values (no canary traffic: "Halt advancement no values found").
 * The checks look at the canary alone: there is no comparison with the primary.
 *
 * Simplified: ticks fall on minute boundaries of the simulation; Prometheus `rate()` extrapolation is
 * ignored (the counts of the interval are used as they are); the P99 is computed from the app's latency
 * buckets (Istio's `istio_request_duration_milliseconds_bucket` has other bounds); webhooks always pass.
 */
import { histogramQuantile, type MinuteCounts, type TrafficSimulator } from './traffic.js';

/** Flagger's `spec.analysis` settings used by the bench. */
export interface FlaggerConfig {
  /** Analysis interval in minutes (`interval: 1m`). */
  intervalMinutes: number;
  /** Failed checks before rollback (`threshold`). */
  threshold: number;
  /** Weight added after each passing check, percent (`stepWeight`). */
  stepWeight: number;
  /** Weight at which a passing check promotes, percent (`maxWeight`). */
  maxWeight: number;
  /** `request-success-rate` `thresholdRange.min`, percent of non-5xx answers. */
  minSuccessRatePercent: number;
  /** `request-duration` `thresholdRange.max` on the P99, ms; null leaves the check out. */
  maxP99Ms: number | null;
}

/** The values of Flagger's documentation examples: 1m interval, 5 failed checks, 10 → 50 %, 99 %, 500 ms. */
export const FLAGGER_DOCS_CONFIG: FlaggerConfig = {
  intervalMinutes: 1,
  threshold: 5,
  stepWeight: 10,
  maxWeight: 50,
  minSuccessRatePercent: 99,
  maxP99Ms: 500,
};

/** One check's numbers: success rate (percent; NaN without traffic) and P99 (ms; NaN without traffic). */
export interface FlaggerCheck {
  passed: boolean;
  successRatePercent: number;
  p99Ms: number;
}

/**
 * Flagger's built-in checks on the canary's counts over one interval.
 * @param canary the canary's requests, 5xx and latency buckets over the interval.
 * @param buckets finite latency bucket bounds (s) of `canary.latency`.
 */
export function flaggerCheck(canary: MinuteCounts, buckets: number[], config: FlaggerConfig): FlaggerCheck {
  if (canary.requests === 0) return { passed: false, successRatePercent: NaN, p99Ms: NaN };
  const successRatePercent = ((canary.requests - canary.errors) / canary.requests) * 100;
  const p99Ms = histogramQuantile(0.99, buckets, canary.latency) * 1000;
  let passed = !(successRatePercent < config.minSuccessRatePercent);
  if (config.maxP99Ms !== null && p99Ms > config.maxP99Ms) passed = false;
  return { passed, successRatePercent, p99Ms };
}

/** What one tick did. */
export type FlaggerAction = 'start' | 'advance' | 'hold' | 'promote' | 'rollback';

/**
 * Flagger's canary state for one run: weight and failed checks, advanced one tick at a time.
 * With `stepping: false` the weight never moves and nothing is promoted (the same check and threshold
 * applied to a canary held at a fixed weight).
 */
export class FlaggerAnalysis {
  /** Canary weight in percent. */
  weight = 0;
  failedChecks = 0;
  private started = false;
  done: 'promoted' | 'rolled back' | null = null;

  constructor(
    readonly config: FlaggerConfig,
    readonly buckets: number[],
    private readonly stepping = true,
  ) {}

  /**
   * One analysis tick.
   * @param interval the canary's counts since the previous tick (ignored on the first tick).
   * @throws Error when the run has already ended.
   */
  tick(interval: MinuteCounts): FlaggerAction {
    if (this.done) throw new Error(`the Flagger run has ended (${this.done})`);
    if (this.started && this.failedChecks >= this.config.threshold) {
      this.done = 'rolled back';
      this.weight = 0;
      return 'rollback';
    }
    if (!this.started) {
      this.started = true;
      if (this.stepping) this.weight = Math.min(this.config.stepWeight, 100);
      return 'start';
    }
    if (!flaggerCheck(interval, this.buckets, this.config).passed) {
      this.failedChecks++;
      return 'hold';
    }
    if (!this.stepping) return 'hold';
    if (this.weight < this.config.maxWeight) {
      this.weight = Math.min(this.weight + this.config.stepWeight, 100);
      return 'advance';
    }
    this.done = 'promoted';
    return 'promote';
  }
}

/** How a simulated Flagger run ended. */
export interface FlaggerRun {
  outcome: 'promoted' | 'rolled back' | 'running';
  /** Canary requests answered until the outcome (or the limit). */
  canaryRequests: number;
  minutes: number;
  failedChecks: number;
}

/**
 * Runs Flagger's analysis on a simulated stream: Flagger sets the weight, the simulator answers requests at
 * it, and every `intervalMinutes` a tick judges the canary's counts of the interval.
 * @param maxMinutes stop (outcome 'running') after this many simulated minutes.
 */
export function runFlagger(
  simulator: TrafficSimulator,
  config: FlaggerConfig,
  maxMinutes: number,
): FlaggerRun {
  const buckets = simulator.model.buckets;
  const analysis = new FlaggerAnalysis(config, buckets);
  const empty = (): MinuteCounts => ({
    requests: 0,
    errors: 0,
    latency: new Array<number>(buckets.length + 1).fill(0),
    feedbackAgreed: 0,
    feedbackDisagreed: 0,
    visitors: 0,
  });
  let canaryRequests = 0;
  let minutes = 0;
  analysis.tick(empty());
  while (minutes < maxMinutes) {
    const interval = empty();
    for (let m = 0; m < config.intervalMinutes && minutes < maxMinutes; m++) {
      const minute = simulator.next(analysis.weight).canary;
      minutes++;
      canaryRequests += minute.requests;
      interval.requests += minute.requests;
      interval.errors += minute.errors;
      for (let i = 0; i < interval.latency.length; i++) interval.latency[i] += minute.latency[i];
    }
    const action = analysis.tick(interval);
    if (action === 'rollback' || action === 'promote') {
      return { outcome: analysis.done!, canaryRequests, minutes, failedChecks: analysis.failedChecks };
    }
  }
  return { outcome: 'running', canaryRequests, minutes, failedChecks: analysis.failedChecks };
}
