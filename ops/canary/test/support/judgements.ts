/**
 * Hand-made looks and judgements for the controller, report, serve, metrics and CLI tests: a fixed
 * Judgement with realistic numbers (the report tests compare exact output against it) and fakes of the
 * controller's ports that record every call.
 */
import type { Clock, LookSource, Routes, RouteState, Target, Window } from '../../src/controller/ports.js';
import type {
  Decision,
  Judgement,
  JudgeConfig,
  JudgeState,
  Look,
  VersionCounts,
} from '../../src/judge/types.js';

/** Judge settings for tests (the shape of DEFAULT_JUDGE_CONFIG; values chosen here). */
export const TEST_JUDGE_CONFIG: JudgeConfig = {
  alpha: 0.05,
  srmAlpha: 0.001,
  errorRate: { margin: 0.005, minRequests: 500 },
  latency: { sloSeconds: 0.5, margin: 0.02, minRequests: 500, rankTest: true },
  agreement: { enabled: true, margin: 0.05, minFeedback: 100 },
  passRequires: ['error_rate', 'latency_slo'],
  experiment: { alpha: 0.05, power: 0.8, minimumDetectableEffect: 0.02 },
};

/** Counts of one version; `visitors` and `requests` as given, the rest proportional. */
export function versionCounts(requests: number, visitors: number, errors = 0): VersionCounts {
  return {
    requests,
    errors,
    latency: { le: [0.1, 0.5, Infinity], counts: [Math.round(requests * 0.9), requests, requests] },
    feedbackAgreed: Math.round(requests * 0.05),
    feedbackDisagreed: Math.round(requests * 0.01),
    peopleViews: visitors * 2,
    peopleClicks: Math.round(visitors * 0.2),
    visitors,
  };
}

/** A look with the given visitors per arm (requests = 10 × visitors). */
export function lookWith(stableVisitors: number, canaryVisitors: number, time = 0): Look {
  return {
    stable: versionCounts(stableVisitors * 10, stableVisitors),
    canary: versionCounts(canaryVisitors * 10, canaryVisitors),
    canaryWeight: 0,
    time,
  };
}

/** The judgement of the report tests: error rate FAILs, the rest as a real look could give. */
export const FIXED_JUDGEMENT: Judgement = {
  decision: 'FAIL',
  summary:
    'FAIL: error_rate: canary 5xx 2.10% vs stable 0.50%; the always-valid interval [+0.20, +3.00] points lies above 0.',
  srm: {
    checked: true,
    expectedShare: 0.1,
    observedShare: 0.1024,
    chiSquare: 0.32,
    pValue: 0.5716,
    mismatch: false,
    stableVisitors: 4488,
    canaryVisitors: 512,
  },
  guardrails: [
    {
      name: 'error_rate',
      verdict: 'FAIL',
      estimate: 0.016,
      interval: [0.002, 0.03],
      pValue: 0.0012,
      margin: 0.005,
      stable: { n: 9000, x: 45 },
      canary: { n: 1000, x: 21 },
      reason: 'canary 5xx 2.10% vs stable 0.50% (+1.60 points)',
    },
    {
      name: 'latency_slo',
      verdict: 'PASS',
      estimate: -0.001,
      interval: [-0.012, 0.009],
      pValue: 0.9,
      margin: 0.02,
      stable: { n: 9000, x: 900 },
      canary: { n: 1000, x: 99 },
      reason: 'slower than 0.5 s: canary 9.90% vs stable 10.00%',
    },
    {
      name: 'latency_rank',
      verdict: 'INSUFFICIENT',
      estimate: 0.0123,
      interval: [-0.031, 0.0556],
      pValue: 0.00004,
      margin: 0.05,
      stable: { n: 9000, x: 0 },
      canary: { n: 1000, x: 0 },
      reason: 'P(canary slower) − 0.5 = +0.012',
    },
  ],
  experiment: {
    stable: { views: 8976, clicks: 898, clickThrough: 0.1000445632798574, interval: [0.0939, 0.1065] },
    canary: { views: 1024, clicks: 123, clickThrough: 0.1201171875, interval: [0.1013, 0.1418] },
    difference: 0.0200726242,
    viewsPerArmNeeded: 1850,
    minimumDetectableEffect: 0.02,
  },
  state: { pValues: { error_rate: 0.0012, latency_slo: 0.9, latency_rank: 0.00004 }, looks: 3 },
};

/** A judgement with `decision`, the look count `looks`, and FIXED_JUDGEMENT's details otherwise. */
export function judgementWith(
  decision: Decision,
  state: JudgeState,
  summary = `summary ${decision}`,
): Judgement {
  return { ...FIXED_JUDGEMENT, decision, summary, state };
}

/** A judge answering the given decisions in order (the last one repeats), recording its inputs. */
export function scriptedJudge(decisions: Decision[]) {
  const calls: { look: Look; state?: JudgeState }[] = [];
  const judge = (look: Look, _config: JudgeConfig, state?: JudgeState): Judgement => {
    calls.push({ look, state });
    const decision = decisions[Math.min(calls.length - 1, decisions.length - 1)];
    return judgementWith(decision, { pValues: {}, looks: (state?.looks ?? 0) + 1 });
  };
  return { judge, calls };
}

/** A LookSource that answers `looks` in order (the last repeats) or throws an Error given instead. */
export function scriptedLooks(answers: (Look | Error)[]) {
  const calls: { target: Target; window: Window }[] = [];
  const source: LookSource = {
    read: async (target, window) => {
      calls.push({ target, window });
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return structuredClone(answer);
    },
  };
  return { source, calls };
}

/** An error named like the kubernetes module's (the controller classifies by name). */
export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Routes in memory: records every call; `failWrite(weight)` may return an error to throw for that write;
 * `humanSets` changes the weight behind the controller's back before the given read.
 */
export function fakeRoutes(
  initial: RouteState,
  options: { failWrite?: (weight: number) => Error | undefined } = {},
) {
  const state = { ...initial };
  const writes: number[] = [];
  const dryRuns: number[] = [];
  const helm: { weight: number; promote: boolean }[] = [];
  let reads = 0;
  const routes: Routes = {
    read: async () => {
      reads += 1;
      return { ...state };
    },
    setCanaryWeight: async (weight, { dryRun }) => {
      const error = options.failWrite?.(weight);
      if (error) throw error;
      const patch = [
        { op: 'test', path: '/metadata/resourceVersion', value: String(100 + writes.length) },
        { op: 'replace', path: '/spec/http', value: [{ name: 'weighted', weights: [100 - weight, weight] }] },
      ];
      if (dryRun) dryRuns.push(weight);
      else {
        writes.push(weight);
        state.canaryWeight = weight;
      }
      return { patch };
    },
    helmValues: (weight, _routes, { promote }) => {
      helm.push({ weight, promote });
      return promote
        ? 'stable:\n  version: v2\ncanary:\n  enabled: false\n'
        : `routing:\n  weights:\n    canary: ${weight}\n`;
    },
  };
  return {
    routes,
    state,
    writes,
    dryRuns,
    helm,
    get reads() {
      return reads;
    },
  };
}

/** A clock whose sleep advances time at once, recording each sleep (ms). */
export function fakeClock(start = Date.UTC(2024, 4, 1, 9, 0, 0)) {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return {
    clock,
    sleeps,
    advance(ms: number) {
      now += ms;
    },
  };
}
