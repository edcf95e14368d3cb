/**
 * The scenarios of `npm run bench:canary` and the loops that score each method on them.
 *
 * Monitoring runs (the main table): the canary gets a fixed share of the requests (10 % of 200/min by
 * default) until it has answered `horizonCanaryRequests` (5,000); on the same simulated minutes
 * - our judge looks every minute at the cumulative counts (always-valid inference; rollback on FAIL),
 * - the Flagger-style check runs every minute on the canary alone with its 5-failed-checks threshold, but
 *   is never promoted ("Flagger held at 10 %": what its rule does when it keeps watching),
 * - the Kayenta-style judge scores all per-minute values so far every `intervalMinutes`.
 * Flagger's own flow ("Flagger 10 → 50 %") runs on the same requests (same seed) with Flagger moving the
 * weight itself: stepWeight 10 up to maxWeight 50, then promotion, so it can only catch a regression
 * before it promotes.
 *
 * Rollout runs (the second table): our controller's real flow, as ops/canary/src/controller/run.ts does it:
 * weights 10 → 25 → 50 → 100, one look per minute, PASS → next step, FAIL → rollback, no PASS within the
 * step deadline → rollback (the default `onDeadline: rollback`).
 *
 * Run r of every scenario and every method uses seed `seed + r`: the same uniforms, so scenarios and methods
 * differ only by the effect and the decision rule (common random numbers).
 */
import type { JudgeConfig, JudgeState, Judgement, Look } from '../src/judge/types.js';
import { FlaggerAnalysis, runFlagger, type FlaggerConfig } from './flagger.js';
import { kayentaRun, kayentaStageFails, type KayentaConfig } from './kayenta.js';
import {
  APP_LATENCY_BUCKETS,
  LookBuilder,
  TrafficSimulator,
  type MinuteCounts,
  type TrafficModel,
  type VersionModel,
} from './traffic.js';

/** The judge under test: `judge(look, config, state?)` of src/judge/judge.ts. */
export type JudgeFunction = (look: Look, config: JudgeConfig, state?: JudgeState) => Judgement;

/** The stable version in every scenario: 0.5 % 5xx, median 50 ms (p95 ≈ 114 ms), 5 % feedback, 15 % "wrong". */
export const STABLE_VERSION: VersionModel = {
  errorRate: 0.005,
  latencyMedianSeconds: 0.05,
  latencySigma: 0.5,
  feedbackRate: 0.05,
  disagreeRate: 0.15,
};

/** One scenario: how the canary differs from the stable version. */
export interface Scenario {
  id: string;
  title: string;
  canary: VersionModel;
  /** False for A/A: every rollback is a false rollback. */
  regression: boolean;
}

/** A/A, 5xx 0.5 % → 1 % and → 2 %, and latency × 1.3 (a lognormal scale, so p95 +30 %). */
export const SCENARIOS: Scenario[] = [
  { id: 'aa', title: 'A/A (5xx 0.5 %, same latency)', canary: STABLE_VERSION, regression: false },
  {
    id: 'error-1',
    title: '5xx 0.5 % → 1 %',
    canary: { ...STABLE_VERSION, errorRate: 0.01 },
    regression: true,
  },
  {
    id: 'error-2',
    title: '5xx 0.5 % → 2 %',
    canary: { ...STABLE_VERSION, errorRate: 0.02 },
    regression: true,
  },
  {
    id: 'latency-30',
    title: 'p95 latency +30 %',
    canary: { ...STABLE_VERSION, latencyMedianSeconds: STABLE_VERSION.latencyMedianSeconds * 1.3 },
    regression: true,
  },
];

/** Everything a bench run needs besides the judge. */
export interface BenchSettings {
  runs: number;
  seed: number;
  requestsPerMinute: number;
  visitorsPerMinute: number;
  /** Canary share of the monitoring runs, percent. */
  canaryWeight: number;
  /** Monitoring runs stop once the canary has answered more than this many requests. */
  horizonCanaryRequests: number;
  flagger: FlaggerConfig;
  kayenta: KayentaConfig;
  /** Our controller's steps (percent, ascending, the last 100) and step deadline for the rollout runs. */
  rollout: { steps: number[]; stepDeadlineMinutes: number };
}

/** The traffic model of a scenario. */
export function trafficModel(scenario: Scenario, settings: BenchSettings): TrafficModel {
  return {
    requestsPerMinute: settings.requestsPerMinute,
    visitorsPerMinute: settings.visitorsPerMinute,
    buckets: APP_LATENCY_BUCKETS,
    stable: STABLE_VERSION,
    canary: scenario.canary,
  };
}

/** Rollbacks of one method over the runs of one scenario. */
export interface Tally {
  runs: number;
  /** Canary requests answered when each rollback happened, one entry per rolled-back run. */
  rollbackRequests: number[];
  /** Runs promoted (Flagger's own flow and our rollout) before any rollback. */
  promoted: number;
  /** Rollout runs rolled back because a step deadline passed without PASS (not a FAIL). */
  deadline: number;
}

function emptyTally(): Tally {
  return { runs: 0, rollbackRequests: [], promoted: 0, deadline: 0 };
}

/** The methods of the monitoring table, in print order. */
export const MONITORING_METHODS = ['ours', 'flaggerHeld', 'kayenta', 'flagger'] as const;
export type MonitoringMethod = (typeof MONITORING_METHODS)[number];

/** One run's outcome per method: canary requests at rollback, or null (no rollback within the horizon). */
export type MonitoringRun = Record<MonitoringMethod, number | null> & { flaggerPromoted: boolean };

function emptyMinute(bucketCount: number): MinuteCounts {
  return {
    requests: 0,
    errors: 0,
    latency: new Array<number>(bucketCount + 1).fill(0),
    feedbackAgreed: 0,
    feedbackDisagreed: 0,
    visitors: 0,
  };
}

/**
 * One monitoring run of every method on the same seed.
 * @returns per method the canary requests answered at its rollback (≤ horizon), or null.
 */
export function monitoringRun(
  model: TrafficModel,
  seed: number,
  settings: BenchSettings,
  judge: JudgeFunction,
  judgeConfig: JudgeConfig,
): MonitoringRun {
  const { horizonCanaryRequests: horizon, kayenta } = settings;
  const buckets = model.buckets;
  const simulator = new TrafficSimulator(model, seed);
  const looks = new LookBuilder(buckets);
  const stableMinutes: MinuteCounts[] = [];
  const canaryMinutes: MinuteCounts[] = [];
  const held = new FlaggerAnalysis(settings.flagger, buckets, false);
  held.tick(emptyMinute(buckets.length));
  const expectedPerMinute = (settings.requestsPerMinute * settings.canaryWeight) / 100;
  const lifetimeMinutes = expectedPerMinute > 0 ? Math.floor(horizon / expectedPerMinute) : 0;
  let state: JudgeState | undefined;
  const result: Record<MonitoringMethod, number | null> = {
    ours: null,
    flaggerHeld: null,
    kayenta: null,
    flagger: null,
  };
  let heldMinutes = 0;
  for (let minute = 1; ; minute++) {
    const m = simulator.next(settings.canaryWeight);
    looks.add(m);
    if (looks.canary.requests > horizon) break;
    const canaryRequests = looks.canary.requests;
    stableMinutes.push(m.stable);
    canaryMinutes.push(m.canary);
    if (result.ours === null) {
      const judgement = judge(looks.look(), judgeConfig, state);
      state = judgement.state;
      if (judgement.decision === 'FAIL') result.ours = canaryRequests;
    }
    if (result.flaggerHeld === null) {
      heldMinutes++;
      if (heldMinutes === settings.flagger.intervalMinutes) {
        heldMinutes = 0;
        if (
          held.tick(sumMinutes(canaryMinutes.slice(-settings.flagger.intervalMinutes), buckets)) ===
          'rollback'
        ) {
          result.flaggerHeld = canaryRequests;
        }
      }
    }
    if (result.kayenta === null && minute % kayenta.intervalMinutes === 0 && minute <= lifetimeMinutes) {
      const last = minute + kayenta.intervalMinutes > lifetimeMinutes;
      const run = kayentaRun(stableMinutes, canaryMinutes, buckets, kayenta);
      if (kayentaStageFails(run.score, last, kayenta)) result.kayenta = canaryRequests;
    }
    if (result.ours !== null && result.flaggerHeld !== null && result.kayenta !== null) break;
  }
  const own = runFlagger(new TrafficSimulator(model, seed), settings.flagger, 10_000);
  result.flagger = own.outcome === 'rolled back' && own.canaryRequests <= horizon ? own.canaryRequests : null;
  return { ...result, flaggerPromoted: own.outcome === 'promoted' };
}

function sumMinutes(minutes: MinuteCounts[], buckets: number[]): MinuteCounts {
  const total = emptyMinute(buckets.length);
  for (const m of minutes) {
    total.requests += m.requests;
    total.errors += m.errors;
    for (let i = 0; i < total.latency.length; i++) total.latency[i] += m.latency[i];
  }
  return total;
}

/** How one rollout run of our controller ended. */
export interface RolloutRun {
  outcome: 'promoted' | 'rolled back' | 'deadline';
  /** Canary requests answered until the outcome. */
  canaryRequests: number;
  minutes: number;
}

/**
 * Our controller's flow on a simulated stream (see the module doc): the look is cumulative since the start,
 * its weight the visitor-weighted average of the weights so far.
 */
export function rolloutRun(
  model: TrafficModel,
  seed: number,
  settings: BenchSettings,
  judge: JudgeFunction,
  judgeConfig: JudgeConfig,
): RolloutRun {
  const simulator = new TrafficSimulator(model, seed);
  const looks = new LookBuilder(model.buckets);
  const judged = settings.rollout.steps.filter((w) => w < 100);
  let state: JudgeState | undefined;
  let minutes = 0;
  for (const weight of judged) {
    const stepStart = minutes;
    for (;;) {
      looks.add(simulator.next(weight));
      minutes++;
      const judgement = judge(looks.look(), judgeConfig, state);
      state = judgement.state;
      if (judgement.decision === 'FAIL') {
        return { outcome: 'rolled back', canaryRequests: looks.canary.requests, minutes };
      }
      if (judgement.decision === 'PASS') break;
      if (minutes - stepStart >= settings.rollout.stepDeadlineMinutes) {
        return { outcome: 'deadline', canaryRequests: looks.canary.requests, minutes };
      }
    }
  }
  return { outcome: 'promoted', canaryRequests: looks.canary.requests, minutes };
}

/** Tallies of one scenario. */
export interface ScenarioResult {
  scenario: Scenario;
  monitoring: Record<MonitoringMethod, Tally>;
  rollout: Tally;
  seconds: number;
}

/**
 * Runs `settings.runs` monitoring and rollout runs of a scenario.
 * @param onProgress called after each run with the number of runs done.
 */
export function runScenario(
  scenario: Scenario,
  settings: BenchSettings,
  judge: JudgeFunction,
  judgeConfig: JudgeConfig,
  onProgress: (done: number) => void = () => {},
): ScenarioResult {
  const started = performance.now();
  const model = trafficModel(scenario, settings);
  const monitoring = {
    ours: emptyTally(),
    flaggerHeld: emptyTally(),
    kayenta: emptyTally(),
    flagger: emptyTally(),
  } satisfies Record<MonitoringMethod, Tally>;
  const rollout = emptyTally();
  for (let r = 0; r < settings.runs; r++) {
    const seed = settings.seed + r;
    const run = monitoringRun(model, seed, settings, judge, judgeConfig);
    for (const method of MONITORING_METHODS) {
      monitoring[method].runs++;
      const at = run[method];
      if (at !== null) monitoring[method].rollbackRequests.push(at);
    }
    if (run.flaggerPromoted) monitoring.flagger.promoted++;
    const own = rolloutRun(model, seed, settings, judge, judgeConfig);
    rollout.runs++;
    if (own.outcome === 'promoted') rollout.promoted++;
    else if (own.outcome === 'deadline') rollout.deadline++;
    else rollout.rollbackRequests.push(own.canaryRequests);
    onProgress(r + 1);
  }
  return { scenario, monitoring, rollout, seconds: (performance.now() - started) / 1000 };
}

/** Median of a non-empty list (mean of the two middle values for even lengths); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
