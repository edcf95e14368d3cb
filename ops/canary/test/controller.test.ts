/**
 * The `canary run` state machine with fake looks, judge, routes and clock: the exact sequence of weight
 * writes and the exit code of every path (promotion, rollback, deadline, Prometheus down, conflicts,
 * dry run, Helm values), what the judge is given (cumulative window, carried state, visitor-weighted
 * weight), and the annotations and metrics on the way.
 */
import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { WeightHistory } from '../src/controller/exposure.js';
import { CONFLICT_ERROR_NAME, FORBIDDEN_ERROR_NAME, type Annotations } from '../src/controller/ports.js';
import { EXIT, runCanary, type RunDependencies, type RunOptions } from '../src/controller/run.js';
import { ConflictError, ForbiddenError } from '../src/kubernetes/errors.js';
import { CanaryMetrics } from '../src/metrics/metrics.js';
import type { Decision } from '../src/judge/types.js';
import {
  fakeClock,
  fakeRoutes,
  lookWith,
  namedError,
  scriptedJudge,
  scriptedLooks,
  TEST_JUDGE_CONFIG,
} from './support/judgements.js';

const START = Date.UTC(2024, 4, 1, 9, 0, 0);

function options(overrides: Partial<RunOptions> = {}): RunOptions {
  return {
    target: { namespace: 'rs', component: 'app', source: 'service' },
    steps: [10, 25, 50, 100],
    intervalMs: 60_000,
    stepDeadlineMs: 300_000,
    onDeadline: 'rollback',
    judgeConfig: TEST_JUDGE_CONFIG,
    mode: 'write',
    routesName: 'VirtualService rs/app',
    ...overrides,
  };
}

/** Runs with scripted decisions (or look errors) and returns everything recorded. */
async function run(
  decisions: Decision[],
  overrides: Partial<RunOptions> = {},
  setup: {
    looks?: Parameters<typeof scriptedLooks>[0];
    failWrite?: (weight: number) => Error | undefined;
    initialWeight?: number;
    deps?: Partial<RunDependencies>;
  } = {},
) {
  const routes = fakeRoutes(
    { stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: setup.initialWeight ?? 0 },
    { failWrite: setup.failWrite },
  );
  const judge = scriptedJudge(decisions);
  const looks = scriptedLooks(setup.looks ?? [lookWith(900, 100)]);
  const clock = fakeClock(START);
  const printed: string[] = [];
  const annotations: { time: number; tags: string[]; text: string }[] = [];
  const annotator: Annotations = {
    annotate: async (time, tags, text) => {
      annotations.push({ time, tags, text });
    },
  };
  const metrics = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
  const result = await runCanary(options(overrides), {
    looks: looks.source,
    judge: judge.judge,
    routes: routes.routes,
    clock: clock.clock,
    metrics,
    annotations: annotator,
    log: pino({ level: 'silent' }),
    print: (text) => printed.push(text),
    ...setup.deps,
  });
  return { result, routes, judge, looks, clock, printed, annotations, metrics };
}

describe('runCanary', () => {
  test('a healthy canary steps 10 → 25 → 50, is promoted to 100 and exits 0 with the Helm values', async () => {
    const { result, routes, printed, judge, looks } = await run(['PASS']);
    expect(routes.writes).toEqual([10, 25, 50, 100]);
    expect(result).toMatchObject({
      outcome: 'promoted',
      exitCode: EXIT.promoted,
      weights: [10, 25, 50, 100],
    });
    expect(judge.calls).toHaveLength(3);
    expect(routes.helm).toEqual([{ weight: 100, promote: true }]);
    expect(printed.at(-1)).toBe(
      'canary v2 (stable v1) promoted: it gets every new user now. Make it permanent with these Helm values:\n' +
        'stable:\n  version: v2\ncanary:\n  enabled: false',
    );
    // Every look is cumulative since the run started, and the versions came from the VirtualService.
    expect(looks.calls.map((c) => c.window)).toEqual([
      { start: START, end: START + 60_000 },
      { start: START, end: START + 120_000 },
      { start: START, end: START + 180_000 },
    ]);
    expect(looks.calls[0].target).toEqual({
      namespace: 'rs',
      component: 'app',
      source: 'service',
      stableVersion: 'v1',
      canaryVersion: 'v2',
    });
  });

  test('FAIL at 25 % rolls back to 0 and exits 1', async () => {
    const { result, routes, annotations } = await run(['INSUFFICIENT', 'PASS', 'FAIL']);
    expect(routes.writes).toEqual([10, 25, 0]);
    expect(result.outcome).toBe('rolled-back');
    expect(result.exitCode).toBe(1);
    expect(result.message).toBe('canary v2 (stable v1) rolled back: summary FAIL');
    expect(annotations.map((a) => a.tags)).toEqual([
      ['canary', 'INSUFFICIENT'],
      ['canary', 'PASS'],
      ['canary', 'FAIL'],
      ['canary', 'rollback'],
    ]);
  });

  test('INSUFFICIENT past the step deadline rolls back (exit 1) after exactly deadline / interval looks', async () => {
    const { result, routes, judge, clock } = await run(['INSUFFICIENT']);
    expect(routes.writes).toEqual([10, 0]);
    expect(result.exitCode).toBe(1);
    expect(result.message).toBe(
      'canary v2 (stable v1) rolled back: no PASS within 300 s at 10% (last: INSUFFICIENT)',
    );
    expect(judge.calls).toHaveLength(5);
    expect(clock.sleeps).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
  });

  test('onDeadline hold-and-exit exits 3 without touching the weights', async () => {
    const { result, routes } = await run(['PASS', 'INSUFFICIENT'], { onDeadline: 'hold-and-exit' });
    expect(routes.writes).toEqual([10, 25]);
    expect(result).toMatchObject({ outcome: 'held', exitCode: EXIT.held });
  });

  test('Prometheus down: every look holds with the message, the judge is never asked, nothing is promoted', async () => {
    const down = new Error(
      'Prometheus at http://prom:9090/api/v1/query is unreachable: connect ECONNREFUSED',
    );
    const { result, routes, judge, printed, metrics } = await run(['PASS'], {}, { looks: [down] });
    expect(judge.calls).toHaveLength(0);
    expect(routes.writes).toEqual([10, 0]);
    expect(result.exitCode).toBe(1);
    expect(printed[1]).toBe(
      'look 1 at 10%: HOLD: no look: Prometheus at http://prom:9090/api/v1/query is unreachable: connect ' +
        'ECONNREFUSED; holding (never promoting on missing data)',
    );
    const text = await metrics.text();
    expect(text).toContain('canary_decision{decision="HOLD"} 1');
    expect(text).toContain('canary_looks_total 5');
  });

  test('Prometheus down, then back: holds, then goes on from the same cumulative start', async () => {
    const down = new Error('timeout');
    const { routes, looks } = await run(['PASS'], {}, { looks: [down, down, lookWith(900, 100)] });
    expect(routes.writes).toEqual([10, 25, 50, 100]);
    expect(looks.calls.every((c) => c.window.start === START)).toBe(true);
  });

  test('a conflict on a write stops at once: nothing more is written, exit 4, and it says a human changed the routes', async () => {
    const { result, routes } = await run(
      ['PASS'],
      {},
      {
        failWrite: (w) => (w === 25 ? namedError(CONFLICT_ERROR_NAME, 'resourceVersion 7 → 9') : undefined),
      },
    );
    expect(routes.writes).toEqual([10]);
    expect(result).toMatchObject({ outcome: 'stopped', exitCode: EXIT.stopped, weights: [10] });
    expect(result.message).toBe(
      'someone else changed the VirtualService rs/app since it was read (resourceVersion 7 → 9); the weights are ' +
        'unchanged (canary 10%); a human is in charge now: check the routes, then run again',
    );
  });

  test('a weight changed by someone else between looks stops the run without writing', async () => {
    const fixture = fakeRoutes({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0 });
    const judge = scriptedJudge(['INSUFFICIENT']);
    let looksTaken = 0;
    const result = await runCanary(options(), {
      looks: {
        read: async () => {
          looksTaken += 1;
          if (looksTaken === 2) fixture.state.canaryWeight = 0; // a person rolled back by hand
          return lookWith(900, 100);
        },
      },
      judge: judge.judge,
      routes: fixture.routes,
      clock: fakeClock(START).clock,
      log: pino({ level: 'silent' }),
      print: () => {},
    });
    expect(fixture.writes).toEqual([10]);
    expect(result.exitCode).toBe(EXIT.stopped);
    expect(result.message).toBe(
      'someone else set the canary weight to 0% (it was 10%); a human is in charge now: nothing more is written',
    );
  });

  test('403 on the first write stops with exit 4 and writes nothing', async () => {
    const { result, routes } = await run(
      ['PASS'],
      {},
      {
        failWrite: () => namedError(FORBIDDEN_ERROR_NAME, 'forbidden to patch virtualservices'),
      },
    );
    expect(routes.writes).toEqual([]);
    expect(result.exitCode).toBe(EXIT.stopped);
    expect(result.message).toBe(
      'not allowed to patch the VirtualService rs/app (forbidden to patch virtualservices); the weights are unchanged (canary 0%)',
    );
  });

  test('a rollback the API refuses says loudly that the weight must be set to 0 by hand', async () => {
    const { result, routes } = await run(
      ['FAIL'],
      {},
      {
        failWrite: (w) => (w === 0 ? new Error('HTTP 503 after 4 attempts') : undefined),
      },
    );
    expect(routes.writes).toEqual([10]);
    expect(result.exitCode).toBe(EXIT.stopped);
    expect(result.message).toBe(
      'ROLLBACK NOT WRITTEN: the Kubernetes API failed to set canary weight 0% (HTTP 503 after 4 attempts); the ' +
        'weights are unchanged (canary 10%). Set the canary weight to 0 yourself.',
    );
  });

  test('the kubernetes module names its errors as the controller expects', () => {
    expect(new ConflictError('1', '2').name).toBe(CONFLICT_ERROR_NAME);
    expect(new ForbiddenError('patch', 'rs', 'app', 'no').name).toBe(FORBIDDEN_ERROR_NAME);
  });

  test('--dry-run prints every patch and writes nothing', async () => {
    const { result, routes, printed } = await run(['PASS'], { mode: 'dry-run' });
    expect(routes.writes).toEqual([]);
    expect(routes.dryRuns).toEqual([10, 25, 50, 100]);
    expect(result.weights).toEqual([10, 25, 50, 100]);
    expect(printed[0]).toBe(
      [
        'dry run: would patch the VirtualService rs/app to canary weight 10% (step 1 of 3):',
        '[',
        '  {',
        '    "op": "test",',
        '    "path": "/metadata/resourceVersion",',
        '    "value": "100"',
        '  },',
        '  {',
        '    "op": "replace",',
        '    "path": "/spec/http",',
        '    "value": [',
        '      {',
        '        "name": "weighted",',
        '        "weights": [',
        '          90,',
        '          10',
        '        ]',
        '      }',
        '    ]',
        '  }',
        ']',
      ].join('\n'),
    );
  });

  test('--helm-values prints the values of each weight instead of patching', async () => {
    const { routes, printed, result } = await run(['PASS', 'FAIL'], { mode: 'helm-values' });
    expect(routes.writes).toEqual([]);
    expect(routes.dryRuns).toEqual([]);
    expect(routes.helm).toEqual([
      { weight: 10, promote: false },
      { weight: 25, promote: false },
      { weight: 0, promote: false },
    ]);
    expect(printed[0]).toBe(
      'Helm values for canary weight 10% (step 1 of 3):\nrouting:\n  weights:\n    canary: 10',
    );
    expect(result.exitCode).toBe(1);
  });

  test('the judge gets its own state back at every look, across steps', async () => {
    const { judge } = await run(['INSUFFICIENT', 'PASS', 'PASS', 'PASS']);
    expect(judge.calls.map((c) => c.state?.looks)).toEqual([undefined, 1, 2, 3]);
  });

  test('the SRM check is given the visitor-weighted weight of the whole window', async () => {
    // 1000 visitors while at 10 %, then 1000 more (2000 total) at 25 %: expected 17.5 %.
    const { judge } = await run(
      ['PASS', 'PASS'],
      { steps: [10, 25, 100] },
      { looks: [lookWith(900, 100), lookWith(1650, 350)] },
    );
    expect(judge.calls.map((c) => c.look.canaryWeight)).toEqual([10, 17.5]);
  });

  test('configured versions that differ from the routes exit 2 before anything is written', async () => {
    const { result, routes } = await run(['PASS'], {
      target: { namespace: 'rs', component: 'app', source: 'service', canaryVersion: 'v3' },
    });
    expect(routes.writes).toEqual([]);
    expect(result.exitCode).toBe(EXIT.usage);
    expect(result.message).toBe(
      'the VirtualService rs/app routes stable v1 and canary v2, but the configuration says stable v1 and canary v3',
    );
  });

  test('routes that cannot be read: exit 4, or exit 2 when the credentials are missing', async () => {
    for (const [error, code, message] of [
      [
        new Error('HTTP 503 after 4 attempts'),
        EXIT.stopped,
        'cannot read the VirtualService rs/app: HTTP 503 after 4 attempts',
      ],
      [
        namedError('ConfigError', 'kubernetes: cannot load kubeconfig /nope: ENOENT'),
        EXIT.usage,
        'kubernetes: cannot load kubeconfig /nope: ENOENT',
      ],
    ] as const) {
      const fixture = fakeRoutes({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0 });
      fixture.routes.read = async () => {
        throw error;
      };
      const result = await runCanary(options(), {
        looks: scriptedLooks([lookWith(900, 100)]).source,
        judge: scriptedJudge(['PASS']).judge,
        routes: fixture.routes,
        clock: fakeClock(START).clock,
        log: pino({ level: 'silent' }),
        print: () => {},
      });
      expect([result.exitCode, result.message, fixture.writes]).toEqual([code, message, []]);
    }
  });

  test('an abort between looks ends with 130 and leaves the weights as they are', async () => {
    const stop = new AbortController();
    const judge = scriptedJudge(['INSUFFICIENT']);
    const fixture = fakeRoutes({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0 });
    const clock = fakeClock(START);
    const result = await runCanary(options(), {
      looks: {
        read: async () => {
          stop.abort();
          return lookWith(900, 100);
        },
      },
      judge: judge.judge,
      routes: fixture.routes,
      clock: clock.clock,
      log: pino({ level: 'silent' }),
      print: () => {},
      signal: stop.signal,
    });
    expect(fixture.writes).toEqual([10]);
    expect(result.exitCode).toBe(EXIT.interrupted);
  });

  test('annotations only when the decision changes; metrics follow the weight', async () => {
    const { annotations, metrics } = await run(['INSUFFICIENT', 'INSUFFICIENT', 'PASS', 'PASS', 'PASS']);
    expect(annotations.map((a) => a.tags[1])).toEqual(['INSUFFICIENT', 'PASS', 'promotion']);
    expect(annotations[0]).toEqual({
      time: START + 60_000,
      tags: ['canary', 'INSUFFICIENT'],
      text: 'canary v2 (stable v1) at 10%: summary INSUFFICIENT',
    });
    expect(await metrics.text()).toContain(
      'canary_weight{virtual_service_namespace="rs",virtual_service="app"} 100',
    );
  });
});

describe('WeightHistory', () => {
  test('weights each segment by the visitors counted while it lasted', () => {
    const history = new WeightHistory(0);
    history.change(10, 0); // replaces the initial segment: nobody was counted at 0 %
    expect(history.expectedWeight(0)).toBe(10);
    expect(history.expectedWeight(400)).toBe(10);
    history.change(50, 400);
    expect(history.expectedWeight(800)).toBe(30);
    history.change(25, 300); // counters never go back: treated as 400
    expect(history.expectedWeight(800)).toBe(17.5);
    expect(history.current).toBe(25);
  });
});
