/**
 * The canary controller end to end, against real processes: model-service v1 and v2, app v1 (stable) and
 * v2 (canary), a fault proxy between app v2 and its model-service, and a real Prometheus (Debian's)
 * scraping them with the chart's ServiceMonitor relabeling and rules every second (support/stack.ts).
 * Simulated users (support/users.ts) are routed by the app VirtualService that a fake Kubernetes API server
 * holds, so every weight the controller writes changes where new users go, while returning users stay on
 * their version.
 *
 * Each scenario runs the real controller (`runCanary`, wired as the CLI wires it: a validated config file
 * and `connect()` of src/cli/wiring.ts, i.e. readLook over PrometheusClient and VirtualServiceRoutes over
 * @kubernetes/client-node with a kubeconfig naming the fake API server) with short steps 10 → 50 → 100,
 * one look every 2 s, and asserts the exact sequence of canary weights the API server received:
 * 1. healthy canary (same model, proxy passing through) → promoted: 10, 50, 100, exit 0;
 * 2. A/A (the canary the same as the stable, every guardrail required to PASS, so many looks at 50%) →
 *    never rolled back (promoted, or held at the deadline);
 * 3. faulty canary: half of v2's model calls fail (the app answers its users 502) → rolled back: 10, 0;
 * 4. slow canary: v2's model calls take 300 ms longer → rolled back: 10, 0, exit 1;
 * 5. too little traffic (1 request/s): held at 10 until the step deadline → exit 3, weights 10 only;
 * 6. no traffic with `onDeadline: rollback` → rolled back at the deadline: 10, 0, exit 1.
 * One Prometheus and one set of services serve all scenarios. Before the first, users browse both versions
 * (no cold canary); before each run with traffic, users browse the stable version for a few seconds, so
 * the canary starts in steady traffic with returning users. Each run's look window starts at its own start
 * (cumulative counts since then), and the VirtualService is put back to weight 0 in between. After each
 * run, one more look over the whole run checks that Prometheus counted the requests the users sent.
 * `CANARY_IT_DUMP=<path prefix>` writes every run's looks and judgements as JSON.
 *
 * Needs /usr/bin/prometheus (or PROMETHEUS_PATH): skipped with a warning when it is missing, failed when
 * CI=true.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { connect } from '../../src/cli/wiring.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveJudgeConfig } from '../../src/config/schema.js';
import { EXIT, runCanary, type RunResult } from '../../src/controller/run.js';
import { SYSTEM_CLOCK } from '../../src/controller/ports.js';
import { DEFAULT_JUDGE_CONFIG } from '../../src/judge/defaults.js';
import { judge } from '../../src/judge/judge.js';
import type { Judgement, Look } from '../../src/judge/types.js';
import { CanaryMetrics } from '../../src/metrics/metrics.js';
import { prometheusMissing } from '../../../helm/test/support/prometheus.js';
import { planWeight, readVirtualServiceState } from '../../src/kubernetes/routes.js';
import type { HttpRoute } from '../../../helm/test/support/mesh.js';
import type { FaultMode } from './support/fault-proxy.js';
import { startKubernetes, type KubernetesHarness } from './support/kubernetes.js';
import { NAMESPACE, startCanaryStack, type CanaryStack } from './support/stack.js';
import { UserLoad, type LoadStats } from './support/users.js';
import { dashboardQueries } from '../../../helm/src/dashboards/queries.js';
import { toolAvailable } from '../../../../test/support/system-tool.js';

const describeWithPrometheus = toolAvailable(
  prometheusMissing(),
  'the canary integration test',
  "Debian's prometheus package",
)
  ? describe
  : describe.skip;

/** Requests per second of the simulated users (all of them), for the scenarios with normal traffic. */
const RATE = 40;
/** Browsing on both versions once, before the first run (ms). */
const WARM_UP_BOTH_MS = 8000;
/** Browsing on the stable version before each run with traffic (ms). */
const WARM_UP_MS = 3000;
/** Seconds between looks. */
const INTERVAL_S = 2;
/** Longest wait for PASS at one step (s). */
const STEP_DEADLINE_S = 40;

/**
 * The judge's settings for a test that must end in seconds: small minimum counts, and margins wide
 * enough that a healthy canary passes at about 50 requests at 10% of the traffic (the always-valid
 * intervals are wide at small counts), narrow enough that the injected faults (a quarter of the canary's
 * answers failing, or half of them slower than the 250 ms SLO) are far outside them. PASS needs the
 * default `passRequires` (error_rate and latency_slo); the rank test and agreement can only FAIL a run,
 * except in the A/A scenario, which requires all four.
 */
const JUDGE = {
  errorRate: { margin: 0.1, minRequests: 40 },
  latency: { sloSeconds: 0.25, margin: 0.15, minRequests: 40, rankTest: true },
  agreement: { enabled: true, margin: 0.3, minFeedback: 20 },
};

/** One scenario: the canary's fault, the traffic, and the controller's settings. */
interface Scenario {
  name: string;
  fault: FaultMode;
  ratePerSecond: number;
  seed: number;
  steps: number[];
  stepDeadlineS: number;
  onDeadline: 'rollback' | 'hold-and-exit';
  /**
   * How long the users browse before the run starts (ms), all on the stable version (weight 0): the
   * canary then starts in steady traffic, with returning users who stay on the stable version and new
   * users arriving at an even pace, as on a real site. Default 0 (users start with the run).
   */
  warmUpMs?: number;
  /** Judge settings (config file keys) replacing those of {@link JUDGE}. */
  judge?: Record<string, unknown>;
}

/** What a scenario did. */
interface Outcome {
  result: RunResult;
  /** Canary weights of the patches the fake API server applied, in order. */
  written: number[];
  /** Every look's counts (as readLook returned them) and judgement, in order. */
  looks: Look[];
  judgements: Judgement[];
  /** What the controller printed. */
  printed: string[];
  load: LoadStats;
  /** Final value of the controller's `canary_weight` gauge. */
  weightGauge: number;
  /** The canary weight the stored VirtualService has at the end. */
  finalWeight: number;
  /**
   * One more look, taken by the same readLook after the run over the whole scenario (from the run's
   * start until the last answer was scraped): what Prometheus counted of the users' requests.
   */
  afterwards: Look;
  /** When the run started (ms since the epoch). */
  start: number;
  durationMs: number;
}

describeWithPrometheus('canary run against real services and a real Prometheus', () => {
  let tmp: string;
  let stack: CanaryStack;
  let kube: KubernetesHarness;
  /** The scenario running now: stopped by afterAll should a test fail or time out half-way. */
  let current: { load: UserLoad; abort: AbortController } | undefined;
  const timings: Record<string, number> = {};
  const report: string[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rs-canary-'));
    stack = await startCanaryStack(tmp);
    Object.assign(timings, stack.timings);
    kube = await startKubernetes(stack.virtualService, path.join(tmp, 'kubeconfig.yaml'));
    timings.kubernetes = Date.now() - t0;
    // Both versions serve users for a few seconds first (routes at 50/50, as the chart renders them), so
    // that neither is judged on its cold start: a fresh Node process answers its first requests slower
    // (JIT, template and model caches), which the rank test would rightly see as a slower canary.
    const split = planWeight(
      readVirtualServiceState(kube.server.get(NAMESPACE, 'app'), NAMESPACE, 'app'),
      50,
    );
    const warm = new UserLoad({
      routes: () => split as HttpRoute[],
      apps: stack.apps,
      team: stack.team,
      ratePerSecond: RATE,
      seed: 99,
    }).start();
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_BOTH_MS));
    const warmed = await warm.stop();
    if (warmed.routingErrors.length > 0 || Object.keys(warmed.bySubset).sort().join() !== 'v1,v2') {
      throw new Error(`the warm-up did not reach both versions: ${JSON.stringify(warmed)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2500));
    timings.warmUp = Date.now() - t0;
  }, 150_000);

  afterAll(async () => {
    current?.abort.abort();
    await current?.load.stop();
    await kube?.close();
    await stack?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    console.log(`canary integration timings (ms): ${JSON.stringify(timings)}\n${report.join('\n')}`);
  }, 30_000);

  /** Runs `scenario` from weight 0 with its own users, and returns what happened. */
  async function run(scenario: Scenario): Promise<Outcome> {
    const t0 = Date.now();
    kube.reset();
    stack.proxies.v2.setMode(scenario.fault);
    stack.proxies.v2.resetCounts();
    // A config file as a user writes it, loaded and validated as `canary run -c` loads it.
    const configFile = path.join(tmp, `canary-${scenario.seed}.yaml`);
    const raw = {
      prometheus: { url: stack.prometheus.url, timeoutMs: 5000 },
      kubernetes: { namespace: NAMESPACE, virtualService: 'app', kubeconfig: kube.kubeconfigFile },
      target: { component: 'app', source: 'service' },
      steps: scenario.steps,
      interval: INTERVAL_S,
      stepDeadline: scenario.stepDeadlineS,
      onDeadline: scenario.onDeadline,
      judge: { ...JUDGE, ...scenario.judge },
    };
    await writeFile(configFile, stringify(raw));
    const config = await loadConfig(configFile);
    const log = pino({ level: 'warn' });
    const connections = connect(config, log);
    const looks: Look[] = [];
    const judgements: Judgement[] = [];
    const printed: string[] = [];
    const metrics = new CanaryMetrics(config.kubernetes);
    stack.controllerMetrics.serve(metrics);
    const abort = new AbortController();
    const load = new UserLoad({
      routes: () => kube.routes(),
      apps: stack.apps,
      team: stack.team,
      ratePerSecond: scenario.ratePerSecond,
      seed: scenario.seed,
    });
    current = { load, abort };
    if (scenario.warmUpMs) {
      load.start();
      await new Promise((resolve) => setTimeout(resolve, scenario.warmUpMs));
      load.resetStats();
    }
    const start = Date.now();
    const running = runCanary(
      {
        target: { namespace: NAMESPACE, ...config.target },
        steps: config.steps,
        intervalMs: config.interval * 1000,
        stepDeadlineMs: config.stepDeadline * 1000,
        onDeadline: config.onDeadline,
        judgeConfig: resolveJudgeConfig(DEFAULT_JUDGE_CONFIG, config.judge),
        mode: 'write',
        routesName: `VirtualService ${NAMESPACE}/app`,
      },
      {
        looks: {
          read: async (target, window) => {
            const look = await connections.looks.read(target, window);
            looks.push(look);
            return look;
          },
        },
        judge: (look, judgeConfig, state) => {
          const judgement = judge(look, judgeConfig, state);
          judgements.push(judgement);
          return judgement;
        },
        routes: connections.routes(),
        clock: SYSTEM_CLOCK,
        metrics,
        log,
        print: (text) => printed.push(text),
        signal: abort.signal,
      },
    );
    if (!scenario.warmUpMs) load.start();
    let result: RunResult;
    try {
      result = await running;
    } finally {
      await load.stop();
      stack.proxies.v2.setMode({ kind: 'pass' });
    }
    current = undefined;
    // Let Prometheus scrape the last answers (and the next scenario's window start after them).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const afterwards = await connections.looks.read(
      { namespace: NAMESPACE, stableVersion: 'v1', canaryVersion: 'v2', component: 'app', source: 'service' },
      { start, end: Date.now() },
    );
    const gauge = (await metrics.registry.getSingleMetric('canary_weight')!.get()).values[0]?.value ?? NaN;
    const outcome: Outcome = {
      result,
      written: kube.writtenWeights(),
      looks,
      judgements,
      printed,
      load: load.stats,
      weightGauge: gauge,
      finalWeight: kube.currentWeight(),
      afterwards,
      start,
      durationMs: Date.now() - t0,
    };
    timings[scenario.name] = outcome.durationMs;
    report.push(describeOutcome(scenario, outcome));
    // For a closer look at a run: every look's counts (histograms included) and judgement, as JSON.
    const dump = process.env.CANARY_IT_DUMP;
    if (dump)
      await writeFile(`${dump}-${scenario.seed}.json`, JSON.stringify({ scenario, ...outcome }, null, 1));
    return outcome;
  }

  it('promotes a healthy canary: weights 10, 50, 100 and exit 0', async () => {
    const outcome = await run({
      name: 'healthy',
      fault: { kind: 'pass' },
      ratePerSecond: RATE,
      warmUpMs: WARM_UP_MS,
      seed: 1,
      steps: [10, 50, 100],
      stepDeadlineS: STEP_DEADLINE_S,
      onDeadline: 'rollback',
    });
    expect(outcome.written).toEqual([10, 50, 100]);
    expect(outcome.result).toMatchObject({
      outcome: 'promoted',
      exitCode: EXIT.promoted,
      weights: [10, 50, 100],
    });
    expect([outcome.finalWeight, outcome.weightGauge]).toEqual([100, 100]);
    // PASS at 10% and at 50%; before each, only waiting for data, never FAIL or HOLD.
    const decisions = outcome.judgements.map((j) => j.decision);
    expect(decisions.filter((d) => d === 'PASS')).toEqual(['PASS', 'PASS']);
    expect(decisions.filter((d) => d !== 'PASS' && d !== 'INSUFFICIENT')).toEqual([]);
    expect(outcome.load.routingErrors).toEqual([]);
    expect(failures(outcome.load)).toEqual({ v1: 0, v2: 0 });
    expect(outcome.afterwards.canary.errors + outcome.afterwards.stable.errors).toBe(0);
    expectCountsMatch(outcome);
    // The rs-canary dashboard's controller row, run through Prometheus, which scraped this controller.
    const row = dashboardQueries({ namespace: NAMESPACE, stable: 'v1', canary: 'v2' }).filter(
      (q) => q.dashboard === 'rs-canary' && /\bcanary_[a-z_]+\{/.test(q.expr),
    );
    const answers = Object.fromEntries(
      await Promise.all(
        row.map(async (q) => [
          q.panel,
          (await stack.prometheus.vector(q.expr)).map((x) => [x.metric, Number(x.value[1])]),
        ]),
      ),
    );
    expect(answers).toEqual({
      'Canary weight set by the controller': [[{ virtual_service: 'app' }, 100]],
      "Controller's decision per look": [[{ decision: 'PASS' }, 1]],
      'Always-valid p-value per guardrail': expect.arrayContaining([
        [{ guardrail: 'error_rate' }, expect.any(Number)],
        [{ guardrail: 'latency_slo' }, expect.any(Number)],
      ]),
    });
  }, 120_000);

  it('never rolls back an A/A canary (the same model and code) over many looks', async () => {
    const outcome = await run({
      name: 'A/A',
      fault: { kind: 'pass' },
      ratePerSecond: RATE,
      warmUpMs: WARM_UP_MS,
      seed: 5,
      steps: [50, 100],
      stepDeadlineS: 20,
      onDeadline: 'hold-and-exit',
      // Every guardrail must PASS before the promotion, agreement included (its feedback is sparse): the
      // run takes many looks, each a chance for a false FAIL.
      judge: {
        passRequires: ['error_rate', 'latency_slo', 'latency_rank', 'agreement'],
      },
    });
    expect(outcome.written).not.toContain(0);
    expect(['promoted', 'held']).toContain(outcome.result.outcome);
    expect(outcome.result.weights).toEqual(outcome.result.outcome === 'promoted' ? [50, 100] : [50]);
    expect(outcome.judgements.length).toBeGreaterThanOrEqual(5);
    expect(outcome.judgements.filter((j) => j.decision === 'FAIL' || j.decision === 'HOLD')).toEqual([]);
    // All four guardrails were judged, agreement on feedback of both versions.
    expect(Object.keys(verdicts(outcome.judgements[outcome.judgements.length - 1])).sort()).toEqual([
      'agreement',
      'error_rate',
      'latency_rank',
      'latency_slo',
    ]);
    const { stable, canary } = outcome.afterwards;
    expect(Math.min(stable.feedbackAgreed, canary.feedbackAgreed)).toBeGreaterThan(0);
    expectCountsMatch(outcome);
  }, 120_000);

  it('rolls back a canary whose model calls fail (the app answers 502): weights 10, 0 and exit 1', async () => {
    const outcome = await run({
      name: 'errors',
      fault: { kind: 'errors', share: 0.5, status: 500 },
      ratePerSecond: RATE,
      warmUpMs: WARM_UP_MS,
      seed: 2,
      steps: [10, 50, 100],
      stepDeadlineS: STEP_DEADLINE_S,
      onDeadline: 'hold-and-exit',
    });
    expect(outcome.written).toEqual([10, 0]);
    expect(outcome.result).toMatchObject({
      outcome: 'rolled-back',
      exitCode: EXIT.rolledBack,
      weights: [10, 0],
    });
    expect([outcome.finalWeight, outcome.weightGauge]).toEqual([0, 0]);
    const last = outcome.judgements[outcome.judgements.length - 1];
    expect(last.decision).toBe('FAIL');
    expect(verdicts(last)).toMatchObject({ error_rate: 'FAIL' });
    expect(outcome.judgements.slice(0, -1).map((j) => j.decision)).not.toContain('PASS');
    // The canary's users saw the injected failures as the app's 502 page, the stable's users none; the
    // app's own http_requests_total counted exactly those (its 502 series was born in this window, so
    // readLook takes its end value, not an extrapolated increase).
    const failed = failures(outcome.load);
    expect(failed.v1).toBe(0);
    expect(failed.v2).toBeGreaterThan(0);
    expect(failed.v2).toBe(outcome.load.bySubset.v2.statuses[502]);
    expect(failed.v2).toBe(stack.proxies.v2.counts().injectedErrors);
    expect({ stable: outcome.afterwards.stable.errors, canary: outcome.afterwards.canary.errors }).toEqual({
      stable: 0,
      canary: failed.v2,
    });
    expectCountsMatch(outcome);
  }, 120_000);

  it('rolls back a canary whose model calls are 300 ms slower: weights 10, 0 and exit 1', async () => {
    const outcome = await run({
      name: 'latency',
      fault: { kind: 'latency', addedMs: 300 },
      ratePerSecond: RATE,
      warmUpMs: WARM_UP_MS,
      seed: 3,
      steps: [10, 50, 100],
      stepDeadlineS: STEP_DEADLINE_S,
      onDeadline: 'hold-and-exit',
    });
    expect(outcome.written).toEqual([10, 0]);
    expect(outcome.result).toMatchObject({
      outcome: 'rolled-back',
      exitCode: EXIT.rolledBack,
      weights: [10, 0],
    });
    expect([outcome.finalWeight, outcome.weightGauge]).toEqual([0, 0]);
    const last = outcome.judgements[outcome.judgements.length - 1];
    expect(last.decision).toBe('FAIL');
    // Slow, not failing: the SLO share (or the rank test) decides, never the error rate.
    expect([verdicts(last).latency_slo, verdicts(last).latency_rank]).toContain('FAIL');
    expect(verdicts(last).error_rate).not.toBe('FAIL');
    expect(failures(outcome.load)).toEqual({ v1: 0, v2: 0 });
    expectCountsMatch(outcome);
  }, 120_000);

  it('holds a canary with too little traffic (1 request/s) until the deadline, weights untouched', async () => {
    const outcome = await run({
      name: 'low traffic, hold-and-exit',
      fault: { kind: 'pass' },
      ratePerSecond: 1,
      seed: 4,
      steps: [10, 50, 100],
      stepDeadlineS: 12,
      onDeadline: 'hold-and-exit',
    });
    expect(outcome.written).toEqual([10]);
    expect(outcome.result).toMatchObject({ outcome: 'held', exitCode: EXIT.held, weights: [10] });
    expect([outcome.finalWeight, outcome.weightGauge]).toEqual([10, 10]);
    expect(outcome.judgements.length).toBeGreaterThanOrEqual(5);
    // Waiting for data (or, were the few visitors split oddly, holding): never deciding.
    const decided = outcome.judgements
      .map((j) => j.decision)
      .filter((d) => d !== 'INSUFFICIENT' && d !== 'HOLD');
    expect(decided).toEqual([]);
  }, 120_000);

  it('rolls back a canary without any traffic at the deadline when the config says so', async () => {
    const outcome = await run({
      name: 'no traffic, rollback',
      fault: { kind: 'pass' },
      ratePerSecond: 0,
      seed: 6,
      steps: [10, 50, 100],
      stepDeadlineS: 6,
      onDeadline: 'rollback',
    });
    expect(outcome.written).toEqual([10, 0]);
    expect(outcome.result).toMatchObject({
      outcome: 'rolled-back',
      exitCode: EXIT.rolledBack,
      weights: [10, 0],
    });
    expect([outcome.finalWeight, outcome.weightGauge]).toEqual([0, 0]);
    // Missing series are no traffic, never a failure: every look waited for data.
    expect(new Set(outcome.judgements.map((j) => j.decision))).toEqual(new Set(['INSUFFICIENT']));
    expect(outcome.looks.every((l) => l.stable.requests === 0 && l.canary.requests === 0)).toBe(true);
  }, 120_000);
});

/** Each guardrail's verdict by name. */
function verdicts(judgement: Judgement): Record<string, string> {
  return Object.fromEntries(judgement.guardrails.map((g) => [g.name, g.verdict]));
}

/**
 * Requests Prometheus counted per version over the scenario (readLook after the run) against the requests
 * the users were answered. readLook counts a series born in the window exactly (its end value), but one
 * that existed before it with `increase()`, which Prometheus extrapolates to the window's ends: the
 * increase between the first and last sample in the window (at least W − 2 s apart with 1 s scrapes) is
 * scaled up to W. The tolerance is that extrapolation, count × 2 s / (W − 2 s), plus 2 for rounding.
 */
function expectCountsMatch(outcome: Outcome): void {
  const windowS = (outcome.afterwards.time - outcome.start) / 1000;
  for (const [role, subset] of [
    ['stable', 'v1'],
    ['canary', 'v2'],
  ] as const) {
    const sent = outcome.load.bySubset[subset]?.requests ?? 0;
    const counted = outcome.afterwards[role].requests;
    const tolerance = Math.ceil((sent * 2) / (windowS - 2)) + 2;
    expect({ subset, sent, counted, close: Math.abs(counted - sent) <= tolerance }).toEqual({
      subset,
      sent,
      counted: expect.any(Number),
      close: true,
    });
  }
}

/** Requests answered 5xx (or not at all) per version. */
function failures(load: LoadStats): Record<string, number> {
  const out: Record<string, number> = { v1: 0, v2: 0 };
  for (const [subset, stats] of Object.entries(load.bySubset)) {
    out[subset] = Object.entries(stats.statuses)
      .filter(([status]) => Number(status) >= 500 || Number(status) === 0)
      .reduce((sum, [, n]) => sum + n, 0);
  }
  return out;
}

/** A look in a few letters: decision(guardrail verdicts; canary requests), e.g. `I(PPI;57)`. */
function compact(judgement: Judgement): string {
  const letters = judgement.guardrails.map((g) => g.verdict[0]).join('');
  return `${judgement.decision[0]}(${letters};${judgement.guardrails[0]?.canary.n ?? 0})`;
}

/** JSON.stringify replacer leaving the histograms out. */
function withoutLatency(key: string, value: unknown): unknown {
  return key === 'latency' ? undefined : value;
}

/** A few lines for the log: weights, decisions per look, the last summary, the traffic. */
function describeOutcome(scenario: Scenario, outcome: Outcome): string {
  const traffic = Object.entries(outcome.load.bySubset)
    .map(
      ([subset, s]) =>
        `${subset}: ${s.requests} requests, ${s.newUsers} users, statuses ${JSON.stringify(s.statuses)}`,
    )
    .join('; ');
  const last = outcome.judgements[outcome.judgements.length - 1];
  return [
    `--- ${scenario.name}: ${outcome.result.outcome} (exit ${outcome.result.exitCode}) in ${outcome.durationMs} ms; weights written ${JSON.stringify(outcome.written)}`,
    `    looks: ${outcome.judgements.map(compact).join(' ')}`,
    `    last: ${last?.summary ?? '(no judgement)'}`,
    `    first look: ${JSON.stringify(outcome.looks[0], withoutLatency)}`,
    `    last look: ${JSON.stringify(outcome.looks[outcome.looks.length - 1], withoutLatency)}`,
    `    afterwards: ${JSON.stringify(outcome.afterwards, withoutLatency)}`,
    `    ${outcome.result.message}`,
    `    traffic: ${traffic}; skipped ticks ${outcome.load.skipped}`,
  ].join('\n');
}
