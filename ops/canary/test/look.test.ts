/**
 * The look reader: the exact PromQL of every quantity (service and Istio sources), what Prometheus'
 * own engine makes of it on synthetic series (promtool test rules: probe routes, other namespaces,
 * other components and the source proxy's duplicate report left out; series born in the window counted
 * from zero, including a lone 5xx answer; a pod that stopped), and how readLook turns the answers into
 * a Look: rounding, missing series as zero, histogram bounds merged across versions and converted from
 * ms, errors capped at requests, and every failure of Prometheus surfacing as a PrometheusError.
 *
 * The promtool test needs /usr/bin/promtool (Debian `prometheus`, or PROMTOOL_PATH): skipped with a
 * warning when it is missing, and failing when CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import {
  lookQueries,
  PrometheusClient,
  PrometheusError,
  readLook,
  requestsQuery,
  type LookTarget,
  type LookWindow,
  type Quantity,
} from '../src/prometheus/index.js';
import { FakePrometheus, type FakeSample } from './support/fake-prometheus.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const run = promisify(execFile);
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const havePromtool = toolAvailable(
  existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found`,
  'the promtool test of the look PromQL',
  'apt-get install prometheus, or set PROMTOOL_PATH',
);
const itWithPromtool = havePromtool ? it : it.skip;

const TARGET: LookTarget = {
  namespace: 'restaurant-sentiment',
  stableVersion: 'v1',
  canaryVersion: 'v2',
  component: 'app',
  source: 'service',
  canaryWeight: 10,
};
const ISTIO: LookTarget = { ...TARGET, source: 'istio' };
/** 30 minutes from 2026-01-01T12:00:00Z. */
const WINDOW: LookWindow = { start: 1_767_268_800_000, end: 1_767_270_600_000 };

describe('the PromQL of a look', () => {
  it('counts requests since the start: end minus start (increase after a reset), the end value for new series', () => {
    const selector =
      'http_requests_total{namespace="restaurant-sentiment", component="app", version=~"v1|v2", route!~"/metrics|/healthz|/readyz"}';
    expect(requestsQuery(TARGET, WINDOW)).toEqual({
      quantity: 'requests',
      versionLabel: 'version',
      expr: [
        'sum by (version) (',
        '  (',
        `    (last_over_time(${selector}[1800s] @ 1767270600) - ${selector} @ 1767268800) >= 0`,
        '    or',
        `    (increase(${selector}[1800s] @ 1767270600) and ${selector} @ 1767268800)`,
        '  )',
        '  or',
        `  (max_over_time(${selector}[1800s] @ 1767270600) unless ${selector} @ 1767268800)`,
        ')',
      ].join('\n'),
    });
  });

  it('has one query per quantity with the selectors of the chart (service) and of Istio', () => {
    const selectorsOf = (target: LookTarget) =>
      Object.fromEntries(
        lookQueries(target, WINDOW).map((q) => [
          q.quantity,
          [q.expr.match(/increase\(([^[]+)\[/)![1], q.expr.split('\n')[0], q.versionLabel, q.leUnit],
        ]),
      );
    const ns = 'namespace="restaurant-sentiment"';
    const versions = 'version=~"v1|v2"';
    const http = `${ns}, component="app", ${versions}, route!~"/metrics|/healthz|/readyz"`;
    const feedback = `${ns}, component="model-service", ${versions}`;
    const app = `${ns}, component="app", ${versions}`;
    const byVersion = 'sum by (version) (';
    const common = {
      feedbackAgreed: [`feedback_total{${feedback}, agrees="true"}`, byVersion, 'version', undefined],
      feedbackDisagreed: [`feedback_total{${feedback}, agrees="false"}`, byVersion, 'version', undefined],
      peopleViews: [`people_page_views_total{${app}}`, byVersion, 'version', undefined],
      peopleClicks: [`profile_clicks_total{${app}}`, byVersion, 'version', undefined],
      visitors: [`visitors_total{${app}}`, byVersion, 'version', undefined],
    };
    expect(selectorsOf(TARGET)).toEqual({
      requests: [`http_requests_total{${http}}`, byVersion, 'version', undefined],
      errors: [`http_requests_total{${http}, status=~"5.."}`, byVersion, 'version', undefined],
      latency: [
        `http_request_duration_seconds_bucket{${http}}`,
        'sum by (version, le) (',
        'version',
        'seconds',
      ],
      ...common,
    });
    const istio =
      'reporter="destination", destination_workload_namespace="restaurant-sentiment", destination_app="model-service", destination_version=~"v1|v2"';
    const byDestination = 'sum by (destination_version) (';
    expect(selectorsOf({ ...ISTIO, component: 'model-service' })).toEqual({
      requests: [`istio_requests_total{${istio}}`, byDestination, 'destination_version', undefined],
      errors: [
        `istio_requests_total{${istio}, response_code=~"5.."}`,
        byDestination,
        'destination_version',
        undefined,
      ],
      latency: [
        `istio_request_duration_milliseconds_bucket{${istio}}`,
        'sum by (destination_version, le) (',
        'destination_version',
        'milliseconds',
      ],
      ...common,
    });
  });

  it('escapes regex metacharacters of versions and evaluates at a fractional end', () => {
    const [q] = lookQueries(
      { ...TARGET, stableVersion: 'v1.0', canaryVersion: 'v1.1' },
      { start: 1_000_000, end: 1_090_250 },
    );
    expect(q.expr).toContain('version=~"v1\\\\.0|v1\\\\.1"');
    expect(q.expr).toContain('[90s] @ 1090.25)');
    expect(q.expr).toContain(' @ 1000.25)');
  });

  it('refuses a target or window it cannot query, naming the field', () => {
    expect(() => lookQueries({ ...TARGET, canaryVersion: 'v1' }, WINDOW)).toThrow(
      'look target canaryVersion: stableVersion and canaryVersion must differ',
    );
    expect(() => lookQueries({ ...TARGET, namespace: 'Bad_NS' }, WINDOW)).toThrow(
      'look target namespace: must be a Kubernetes namespace name (a DNS label)',
    );
    expect(() => lookQueries({ ...TARGET, stableVersion: 'v1"}' }, WINDOW)).toThrow(
      'look target stableVersion: must be a Kubernetes label value',
    );
    expect(() => lookQueries({ ...TARGET, canaryWeight: 101 }, WINDOW)).toThrow(
      /^look target canaryWeight: /,
    );
    expect(() => lookQueries(TARGET, { start: WINDOW.end, end: WINDOW.end + 400 })).toThrow(
      'look window: end (1767270600400) must be at least 1 s after start (1767270600000); both are ms since the epoch',
    );
  });
});

/** A synthetic series for promtool: metric, labels, and promtool's expanding notation (1 sample a minute). */
interface Series {
  metric: string;
  labels: Record<string, string>;
  values: string;
}

const svc = (component: string, version: string, extra: Record<string, string> = {}, ns = 'rs') => ({
  namespace: ns,
  component,
  version,
  pod: `${component}-${version}-a`,
  ...extra,
});

/**
 * Minutes 0–45; the window is minutes 10–40. `'0+10x45'`: 0, 10, 20, … (+300 in the window);
 * `'_x15 3+5x25'`: no sample until minute 15, then 3, 8, … 128 at minute 40 (born in the window).
 */
const SERIES: Series[] = [
  // Requests of app v1: 300 on / (existing), 30 5xx on /review (existing), 21 from a pod that stopped at
  // minute 20 (20 in its samples, extrapolated by half a scrape interval: 20 × 630/600).
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v1', { route: '/', method: 'GET', status: '200' }),
    values: '0+10x45',
  },
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v1', { route: '/review', method: 'POST', status: '500' }),
    values: '0+1x45',
  },
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v1', { route: '/', method: 'GET', status: '200', pod: 'app-v1-b' }),
    values: '0+2x20',
  },
  // Not user traffic, another namespace, another component, another version: left out.
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v1', { route: '/metrics', method: 'GET', status: '200' }),
    values: '0+100x45',
  },
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v2', { route: '/', method: 'GET', status: '500' }, 'other'),
    values: '0+7x45',
  },
  {
    metric: 'http_requests_total',
    labels: svc('model-service', 'v1', { route: '/predict', method: 'POST', status: '200' }),
    values: '0+50x45',
  },
  {
    metric: 'http_requests_total',
    labels: svc('app', 'shadow', { route: '/', method: 'GET', status: '200' }),
    values: '0+9x45',
  },
  // Canary v2, born at minute 15: 128 on /, and one lone 503 (a series going 1, 1, 1: increase() says 0).
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v2', { route: '/', method: 'GET', status: '200' }),
    values: '_x15 3+5x25',
  },
  {
    metric: 'http_requests_total',
    labels: svc('app', 'v2', { route: '/review', method: 'POST', status: '503' }),
    values: '_x20 1x20',
  },
  // Latency buckets (seconds).
  ...(
    [
      ['v1', '0.1', '0+8x45'],
      ['v1', '0.5', '0+9x45'],
      ['v1', '+Inf', '0+10x45'],
      ['v2', '0.1', '_x15 1+2x25'],
      ['v2', '0.25', '_x15 2+4x25'],
      ['v2', '+Inf', '_x15 3+5x25'],
    ] as const
  ).map(([version, le, values]) => ({
    metric: 'http_request_duration_seconds_bucket',
    labels: svc('app', version, { route: '/', method: 'GET', status: '200', le }),
    values,
  })),
  {
    metric: 'http_request_duration_seconds_bucket',
    labels: svc('app', 'v1', { route: '/metrics', method: 'GET', status: '200', le: '+Inf' }),
    values: '0+100x45',
  },
  // Feedback of model-service; v2's agreeing series appears exactly at the window's start (an old series).
  { metric: 'feedback_total', labels: svc('model-service', 'v1', { agrees: 'true' }), values: '0+3x45' },
  { metric: 'feedback_total', labels: svc('model-service', 'v1', { agrees: 'false' }), values: '0+1x45' },
  { metric: 'feedback_total', labels: svc('model-service', 'v1', { agrees: 'unknown' }), values: '0+5x45' },
  { metric: 'feedback_total', labels: svc('model-service', 'v2', { agrees: 'true' }), values: '_x10 0+2x30' },
  { metric: 'feedback_total', labels: svc('model-service', 'v2', { agrees: 'false' }), values: '_x30 1x10' },
  // The app's own feedback_total (outcome label) is not the model's.
  { metric: 'feedback_total', labels: svc('app', 'v1', { outcome: 'wrong' }), values: '0+9x45' },
  // People experiment and visitors.
  { metric: 'people_page_views_total', labels: svc('app', 'v1', { variant: 'control' }), values: '0+4x45' },
  { metric: 'people_page_views_total', labels: svc('app', 'v2', { variant: 'treatment' }), values: '0+1x45' },
  {
    metric: 'profile_clicks_total',
    labels: svc('app', 'v1', { member: 'ana', variant: 'control' }),
    values: '0+1x45',
  },
  {
    metric: 'profile_clicks_total',
    labels: svc('app', 'v1', { member: 'bo', variant: 'control' }),
    values: '_x25 2x15',
  },
  { metric: 'visitors_total', labels: svc('app', 'v1', { variant: 'control' }), values: '0+9x45' },
  { metric: 'visitors_total', labels: svc('app', 'v2', { variant: 'treatment' }), values: '0+1x45' },
  // Istio: the destination proxy's reports; the source proxy's duplicate is left out.
  ...(
    [
      ['destination', 'v1', '200', '0+10x45'],
      ['source', 'v1', '200', '0+10x45'],
      ['destination', 'v2', '200', '_x15 3+5x25'],
      ['destination', 'v2', '503', '_x15 1x25'],
    ] as const
  ).map(([reporter, version, code, values]) => ({
    metric: 'istio_requests_total',
    labels: {
      reporter,
      destination_workload_namespace: 'rs',
      destination_app: 'app',
      destination_version: version,
      response_code: code,
      pod: `app-${version}-a`,
    },
    values,
  })),
  ...(
    [
      ['v1', '100', '0+8x45'],
      ['v1', '+Inf', '0+10x45'],
      ['v2', '250', '_x15 2+4x25'],
      ['v2', '+Inf', '_x15 3+5x25'],
    ] as const
  ).map(([version, le, values]) => ({
    metric: 'istio_request_duration_milliseconds_bucket',
    labels: {
      reporter: 'destination',
      destination_workload_namespace: 'rs',
      destination_app: 'app',
      destination_version: version,
      pod: `app-${version}-a`,
      le,
    },
    values,
  })),
];

/** What each query must give on SERIES, as promtool's exp_samples. */
const EXPECTED: Record<
  'service' | 'istio',
  Partial<Record<Quantity, Array<{ labels: string; value: number }>>>
> = {
  service: {
    requests: [
      // 300 + 30 + the second pod's 20 before it stopped (increase() extrapolated it to 351).
      { labels: '{version="v1"}', value: 350 },
      { labels: '{version="v2"}', value: 129 },
    ],
    errors: [
      { labels: '{version="v1"}', value: 30 },
      { labels: '{version="v2"}', value: 1 },
    ],
    latency: [
      { labels: '{version="v1", le="0.1"}', value: 240 },
      { labels: '{version="v1", le="0.5"}', value: 270 },
      { labels: '{version="v1", le="+Inf"}', value: 300 },
      { labels: '{version="v2", le="0.1"}', value: 51 },
      { labels: '{version="v2", le="0.25"}', value: 102 },
      { labels: '{version="v2", le="+Inf"}', value: 128 },
    ],
    feedbackAgreed: [
      { labels: '{version="v1"}', value: 90 },
      { labels: '{version="v2"}', value: 60 },
    ],
    feedbackDisagreed: [
      { labels: '{version="v1"}', value: 30 },
      { labels: '{version="v2"}', value: 1 },
    ],
    peopleViews: [
      { labels: '{version="v1"}', value: 120 },
      { labels: '{version="v2"}', value: 30 },
    ],
    peopleClicks: [{ labels: '{version="v1"}', value: 32 }],
    visitors: [
      { labels: '{version="v1"}', value: 270 },
      { labels: '{version="v2"}', value: 30 },
    ],
  },
  istio: {
    requests: [
      { labels: '{destination_version="v1"}', value: 300 },
      { labels: '{destination_version="v2"}', value: 129 },
    ],
    errors: [{ labels: '{destination_version="v2"}', value: 1 }],
    latency: [
      { labels: '{destination_version="v1", le="100"}', value: 240 },
      { labels: '{destination_version="v1", le="+Inf"}', value: 300 },
      { labels: '{destination_version="v2", le="250"}', value: 102 },
      { labels: '{destination_version="v2", le="+Inf"}', value: 128 },
    ],
  },
};

describe('the PromQL of a look, evaluated by Prometheus (promtool test rules)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-look-promtool-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  itWithPromtool(
    'gives the exact counts of the synthetic series for every quantity of both sources',
    async () => {
      const window: LookWindow = { start: 10 * 60_000, end: 40 * 60_000 };
      const target: LookTarget = { ...TARGET, namespace: 'rs' };
      const tests = (['service', 'istio'] as const).flatMap((source) =>
        lookQueries({ ...target, source }, window)
          .filter((q) => EXPECTED[source][q.quantity])
          .map((q) => ({ expr: q.expr, eval_time: '40m', exp_samples: EXPECTED[source][q.quantity] })),
      );
      expect(tests).toHaveLength(11);
      const input = SERIES.map((s) => ({
        series: `${s.metric}{${Object.entries(s.labels)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(', ')}}`,
        values: s.values,
      }));
      await writeFile(path.join(dir, 'rules.yaml'), 'groups: []\n');
      await writeFile(
        path.join(dir, 'look.test.yaml'),
        stringify({
          rule_files: ['rules.yaml'],
          evaluation_interval: '1m',
          tests: [{ interval: '1m', input_series: input, promql_expr_test: tests }],
        }),
      );
      const result = await run(PROMTOOL, ['test', 'rules', 'look.test.yaml'], { cwd: dir }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      expect(`${result.stdout}${result.stderr}`.trim()).toBe('Unit Testing:  look.test.yaml\n  SUCCESS');
    },
  );
});

describe('readLook', () => {
  let prometheus: FakePrometheus;
  let client: PrometheusClient;
  beforeEach(async () => {
    prometheus = await new FakePrometheus().start();
    client = new PrometheusClient(prometheus.baseUrl, { timeoutMs: 1000 });
  });
  afterEach(() => prometheus.stop());

  /** Answers each query of `target` with the samples given for its quantity (unknown queries: HTTP 400). */
  function answer(target: LookTarget, samples: Partial<Record<Quantity, FakeSample[]>>): void {
    const byExpr = new Map(lookQueries(target, WINDOW).map((q) => [q.expr, samples[q.quantity] ?? []]));
    prometheus.handler = (q) =>
      byExpr.has(q.expr)
        ? { samples: byExpr.get(q.expr) }
        : { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'unexpected query' } };
  }

  const v = (version: string, value: number | string, extra: Record<string, string> = {}): FakeSample => ({
    metric: { version, ...extra },
    value,
  });

  it('turns the eight answers into a Look: rounded counts, 0 for missing series, merged histogram bounds', async () => {
    answer(TARGET, {
      requests: [v('v1', 351.4), v('v2', 128.6)],
      errors: [v('v1', 29.5)],
      latency: [
        v('v1', 240, { le: '0.1' }),
        v('v1', 270, { le: '0.5' }),
        v('v1', 351.2, { le: '+Inf' }),
        v('v2', 51, { le: '0.1' }),
        v('v2', 102, { le: '0.25' }),
        v('v2', 129, { le: '+Inf' }),
      ],
      feedbackAgreed: [v('v1', 90), v('v2', 60), v('shadow', 999)],
      peopleViews: [v('v1', 120), v('v2', 30)],
      peopleClicks: [v('v1', 32)],
      visitors: [v('v1', 270), v('v2', 30)],
    });
    const look = await readLook(client, TARGET, WINDOW);
    expect(look).toEqual({
      stable: {
        requests: 351,
        errors: 30,
        latency: { le: [0.1, 0.25, 0.5, Infinity], counts: [240, 240, 270, 351] },
        feedbackAgreed: 90,
        feedbackDisagreed: 0,
        peopleViews: 120,
        peopleClicks: 32,
        visitors: 270,
      },
      canary: {
        requests: 129,
        errors: 0,
        latency: { le: [0.1, 0.25, 0.5, Infinity], counts: [51, 102, 102, 129] },
        feedbackAgreed: 60,
        feedbackDisagreed: 0,
        peopleViews: 30,
        peopleClicks: 0,
        visitors: 30,
      },
      canaryWeight: 10,
      time: WINDOW.end,
    });
    expect(prometheus.queries).toHaveLength(8);
    expect(new Set(prometheus.queries.map((q) => q.time))).toEqual(new Set(['1767270600']));
  });

  it('Istio source: bounds in ms become seconds, destination_version is the version, errors capped at requests', async () => {
    const d = (version: string, value: number, extra: Record<string, string> = {}): FakeSample => ({
      metric: { destination_version: version, ...extra },
      value,
    });
    answer(ISTIO, {
      requests: [d('v1', 300), d('v2', 129.4)],
      errors: [d('v2', 129.6)],
      latency: [
        d('v1', 240, { le: '100' }),
        d('v1', 300, { le: '+Inf' }),
        d('v2', 102, { le: '250' }),
        d('v2', 101.6, { le: '+Inf' }),
      ],
    });
    const look = await readLook(client, ISTIO, WINDOW);
    expect([look.stable.requests, look.stable.errors, look.canary.requests, look.canary.errors]).toEqual([
      300, 0, 129, 129,
    ]);
    expect(look.stable.latency).toEqual({ le: [0.1, 0.25, Infinity], counts: [240, 240, 300] });
    // 101.6 rounds to 102: never below a smaller bound's count.
    expect(look.canary.latency).toEqual({ le: [0.1, 0.25, Infinity], counts: [0, 102, 102] });
  });

  it('no data at all: zero traffic, never a failure; an empty histogram is le [Infinity], counts [0]', async () => {
    answer(TARGET, {});
    const zero = {
      requests: 0,
      errors: 0,
      latency: { le: [Infinity], counts: [0] },
      feedbackAgreed: 0,
      feedbackDisagreed: 0,
      peopleViews: 0,
      peopleClicks: 0,
      visitors: 0,
    };
    expect(await readLook(client, TARGET, WINDOW)).toEqual({
      stable: zero,
      canary: zero,
      canaryWeight: 10,
      time: WINDOW.end,
    });
  });

  it('a count that is NaN or a bucket without a numeric le: garbage', async () => {
    answer(TARGET, { requests: [v('v1', 'NaN')] });
    await expect(readLook(client, TARGET, WINDOW)).rejects.toThrow(
      'Prometheus answered a count that is not a finite non-negative number for requests ({"version":"v1"} = NaN)',
    );
    answer(TARGET, { latency: [v('v1', 3, { le: 'fast' })] });
    await expect(readLook(client, TARGET, WINDOW)).rejects.toThrow(
      'Prometheus answered a bucket whose le label "fast" is not a number for latency ({"version":"v1","le":"fast"} = 3)',
    );
  });

  it('Prometheus failing one query, or too slow: a PrometheusError, within the timeout', async () => {
    answer(TARGET, {});
    const healthy = prometheus.handler;
    prometheus.handler = (q) =>
      q.expr.includes('visitors_total')
        ? { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'TSDB not ready' } }
        : healthy(q);
    const error = await readLook(client, TARGET, WINDOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusError);
    expect((error as PrometheusError).message).toBe(
      `Prometheus at ${prometheus.baseUrl}/api/v1/query answered HTTP 503: (unavailable) TSDB not ready`,
    );
    prometheus.handler = (q) => (q.expr.includes('feedback_total') ? { hang: true } : healthy(q));
    const slow = new PrometheusClient(prometheus.baseUrl, { timeoutMs: 200 });
    const started = Date.now();
    await expect(readLook(slow, TARGET, WINDOW)).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
