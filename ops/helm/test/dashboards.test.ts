/**
 * The Grafana dashboards: the committed JSON equals a fresh render of the TypeScript (and the CLI's
 * `--check` says which files are stale), each rendered ConfigMap holds exactly the committed file with the
 * sidecar label and folder annotation, every panel reads Prometheus through the datasource variable with at
 * least one query, titles and queries are exactly the expected ones, every query stays in the chart's
 * namespace and uses only the metrics and recording rules of the design contract (and every recording
 * rule it uses is recorded by the chart's PrometheusRule), and every expression parses (promtool).
 *
 * A real Prometheus running every query against live services is ops/helm/test/prometheus.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stringify } from 'yaml';
import { OPS_HELM_DIR, REPO_ROOT } from '../src/helm/binary.js';
import { renderChart, type K8sObject } from '../src/helm/render.js';
import {
  buildDashboards,
  checkDashboardFiles,
  DASHBOARDS_DIR,
  renderDashboardFiles,
  writeDashboardFiles,
} from '../src/dashboards/generate.js';
import { VERSION_PLACEHOLDERS } from '../src/dashboards/canary.js';
import { dashboardQueries, substituteVariables } from '../src/dashboards/queries.js';
import { CONTRACT_RECORDING_RULES } from './support/contract.js';
import { metricNames } from './support/promql.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const run = promisify(execFile);

/** Metrics the services export (design contract "Metrics the services export"). */
const CONTRACT_METRICS = [
  'up',
  'http_requests_total',
  'http_request_duration_seconds_bucket',
  'model_predictions_total',
  'model_inference_duration_seconds_bucket',
  'model_prediction_score_bucket',
  'model_info',
  'feedback_total',
  'reviews_submitted_total',
  'review_length_chars_bucket',
  'predictions_total',
  'people_page_views_total',
  'visitors_total',
  'profile_clicks_total',
  'model_service_request_duration_seconds_bucket',
  // The canary controller's own metrics (ops/canary/src/metrics/metrics.ts).
  'canary_weight',
  'canary_decision',
  'canary_guardrail_p_value',
];

/** The rs-canary row that shows the controller's decisions: its panels compare no versions. */
const CONTROLLER_ROW_PANELS = [
  'Canary weight set by the controller',
  "Controller's decision per look",
  'Always-valid p-value per guardrail',
];

const CONTRACT_RULES: readonly string[] = CONTRACT_RECORDING_RULES;

/** Every panel of every dashboard, `[type, title]` in order (rows included). */
const EXPECTED_PANELS: Record<string, Array<[string, string]>> = {
  'rs-service-overview': [
    ['row', 'Now'],
    ['stat', 'Scrape targets up'],
    ['stat', 'Request rate now'],
    ['stat', '5xx ratio now'],
    ['stat', 'p95 latency now'],
    ['row', 'Rate and errors'],
    ['timeseries', 'Request rate'],
    ['timeseries', '5xx ratio'],
    ['timeseries', 'Request rate by route'],
    ['timeseries', 'Request rate by status'],
    ['row', 'Duration'],
    ['timeseries', 'app latency p50 / p95 / p99'],
    ['timeseries', 'model-service latency p50 / p95 / p99'],
    ['timeseries', 'Calls to model-service from the app: p95'],
    ['timeseries', 'Calls to model-service from the app by outcome'],
  ],
  'rs-model': [
    ['row', 'Model releases'],
    ['table', 'Model release served per version'],
    ['timeseries', 'Prediction rate'],
    ['row', 'Predictions and scores'],
    ['timeseries', 'Prediction mix'],
    ['timeseries', 'Median positive score'],
    ['heatmap', 'Score distribution of $version'],
    ['row', 'Drift'],
    ['timeseries', 'Drift from the model’s held-out reference'],
    ['row', 'Inference'],
    ['timeseries', 'Inference time p50 / p95 / p99'],
    ['row', 'Feedback'],
    ['timeseries', 'Feedback agreement'],
    ['timeseries', 'Feedback volume'],
    ['stat', 'Feedback answers in range'],
  ],
  'rs-experiment': [
    ['row', 'Arms over the selected time range'],
    ['stat', 'Users assigned per arm'],
    ['stat', 'People page views per arm'],
    ['stat', 'Click-through per arm'],
    ['table', 'Views, clicks and click-through per arm'],
    ['row', 'Over time (1 hour windows)'],
    ['timeseries', 'Click-through over time'],
    ['timeseries', 'People page views'],
    ['row', 'Team members'],
    ['bargauge', 'Click-through per team member'],
  ],
  'rs-canary': [
    ['row', 'Traffic'],
    ['timeseries', 'Request share per version'],
    ['timeseries', 'Request rate per version'],
    ['row', 'Errors'],
    ['timeseries', '5xx ratio: stable and canary'],
    ['timeseries', '5xx ratio: canary minus stable'],
    ['row', 'Latency'],
    ['timeseries', 'p95 latency: stable and canary'],
    ['timeseries', 'p95 latency: canary over stable'],
    ['row', 'Model quality'],
    ['timeseries', 'Wrong-feedback share: stable and canary'],
    ['timeseries', 'Feedback answers per hour: stable and canary'],
    ['bargauge', 'Prediction mix: stable and canary'],
    ['row', 'Canary controller (ops/canary)'],
    ['timeseries', 'Canary weight set by the controller'],
    ['timeseries', "Controller's decision per look"],
    ['timeseries', 'Always-valid p-value per guardrail'],
  ],
};

interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
  instant?: boolean;
  format?: string;
}

/** The committed dashboards, parsed, by uid. */
const committed = new Map<string, dashboard.Dashboard>();

function panelsOf(model: dashboard.Dashboard): dashboard.Panel[] {
  return (model.panels ?? []).filter((p) => p.type !== 'row') as dashboard.Panel[];
}

function panel(uid: string, title: string): dashboard.Panel {
  const found = panelsOf(committed.get(uid) as dashboard.Dashboard).find((p) => p.title === title);
  if (!found) throw new Error(`${uid} has no panel "${title}"`);
  return found;
}

function exprs(p: dashboard.Panel): string[] {
  return ((p.targets ?? []) as Target[]).map((t) => t.expr as string);
}

beforeAll(async () => {
  for (const name of renderDashboardFiles().keys()) {
    committed.set(
      name.replace(/\.json$/, ''),
      JSON.parse(await readFile(path.join(DASHBOARDS_DIR, name), 'utf8')),
    );
  }
});

describe('generated files', () => {
  it('the committed JSON equals a fresh render of the TypeScript (run npm run dashboards -w ops/helm)', async () => {
    expect(await checkDashboardFiles()).toEqual({ stale: [], missing: [], orphaned: [] });
    expect([...renderDashboardFiles().keys()]).toEqual([
      'rs-canary.json',
      'rs-experiment.json',
      'rs-model.json',
      'rs-service-overview.json',
    ]);
  });

  it('renders the same bytes every time, pretty-printed with a trailing newline', () => {
    const first = renderDashboardFiles();
    const second = renderDashboardFiles();
    expect([...second]).toEqual([...first]);
    const text = first.get('rs-canary.json') as string;
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "timezone": "browser",');
    expect(text).not.toMatch(/"(?:version|iteration|created|updated)":/);
  });

  describe('the CLI', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'rs-dashboards-'));
      await cp(DASHBOARDS_DIR, dir, { recursive: true });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', path.join(OPS_HELM_DIR, 'src/dashboards/cli.ts'), ...args], {
        cwd: REPO_ROOT,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          stdout: error.stdout,
          stderr: error.stderr,
        }),
      );

    it('--check exits 1 naming stale, missing and orphaned files; a run fixes them', async () => {
      const relative = path.relative(REPO_ROOT, dir);
      await writeFile(path.join(dir, 'rs-model.json'), '{"edited": "by hand"}\n');
      await rm(path.join(dir, 'rs-canary.json'));
      await writeFile(path.join(dir, 'rs-old.json'), '{}\n');

      const check = await cli('--check', '--dir', dir);
      expect(check.code).toBe(1);
      expect(check.stderr.trim().split('\n')).toEqual([
        `stale: ${relative}/rs-model.json differs from the TypeScript (run npm run dashboards -w ops/helm)`,
        `missing: ${relative}/rs-canary.json is not generated yet (run npm run dashboards -w ops/helm)`,
        `orphaned: ${relative}/rs-old.json belongs to no dashboard (run npm run dashboards -w ops/helm)`,
      ]);

      const write = await cli('--dir', dir);
      expect(write.code).toBe(0);
      expect(write.stdout.trim().split('\n')).toEqual([
        `wrote ${relative}/rs-canary.json`,
        `wrote ${relative}/rs-model.json`,
        `removed ${relative}/rs-old.json`,
      ]);
      expect(await readFile(path.join(dir, 'rs-model.json'), 'utf8')).toBe(
        await readFile(path.join(DASHBOARDS_DIR, 'rs-model.json'), 'utf8'),
      );
      expect(await checkDashboardFiles(dir)).toEqual({ stale: [], missing: [], orphaned: [] });
    });

    it('rejects an unknown argument with the usage and exit 2', async () => {
      const result = await cli('--chek');
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'dashboards: unexpected argument "--chek"; usage: npm run dashboards -w ops/helm -- [--check] [--dir FOLDER]\n',
      );
    });
  });

  it('writeDashboardFiles creates a missing folder and writes nothing the second time', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'rs-dashboards-')), 'nested', 'dashboards');
    try {
      expect(await writeDashboardFiles(dir)).toEqual({
        written: ['rs-canary.json', 'rs-experiment.json', 'rs-model.json', 'rs-service-overview.json'],
        removed: [],
      });
      expect(await writeDashboardFiles(dir)).toEqual({ written: [], removed: [] });
    } finally {
      await rm(path.dirname(path.dirname(dir)), { recursive: true, force: true });
    }
  });
});

describe('ConfigMaps of the chart', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderChart();
  });

  const dashboardMaps = (all: K8sObject[]) =>
    all.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('dashboard-'));

  /** A committed dashboard file with the version placeholders replaced, as the chart's template does. */
  const withVersions = async (file: string, stable: string, canary: string) =>
    (await readFile(path.join(DASHBOARDS_DIR, file), 'utf8'))
      .replaceAll(VERSION_PLACEHOLDERS.stable, stable)
      .replaceAll(VERSION_PLACEHOLDERS.canary, canary);

  /** The `current` value of each version picker of the canary ConfigMap's dashboard. */
  const pickedVersions = (maps: K8sObject[]) => {
    const map = maps.find((m) => m.metadata.name === 'dashboard-rs-canary') as K8sObject;
    const model = JSON.parse((map.data as Record<string, string>)['rs-canary.json']) as dashboard.Dashboard;
    return Object.fromEntries(
      (model.templating.list ?? [])
        .filter((v) => v.name === 'stable' || v.name === 'canary')
        .map((v) => [v.name, v.current]),
    );
  };

  it('one ConfigMap per dashboard holds exactly the committed JSON (version defaults from values), with the sidecar label and folder', async () => {
    const maps = dashboardMaps(objects);
    expect(maps.map((m) => m.metadata.name)).toEqual([
      'dashboard-rs-canary',
      'dashboard-rs-experiment',
      'dashboard-rs-model',
      'dashboard-rs-service-overview',
    ]);
    for (const map of maps) {
      const file = `${map.metadata.name.slice('dashboard-'.length)}.json`;
      expect(map.data).toEqual({ [file]: await withVersions(file, 'v1', 'v2') });
      expect(map.metadata.namespace).toBe('restaurant-sentiment');
      expect(map.metadata.labels).toEqual({
        'app.kubernetes.io/instance': 'rs',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'restaurant-sentiment',
        'helm.sh/chart': 'restaurant-sentiment-0.1.0',
        grafana_dashboard: '1',
        release: 'kube-prometheus-stack',
      });
      expect(map.metadata.annotations).toEqual({ grafana_folder: 'Restaurant Sentiment' });
    }
  });

  it('opens the canary comparison on the stable and canary versions of the values (v1/v2, after a promotion v2/v3)', async () => {
    expect(pickedVersions(dashboardMaps(objects))).toEqual({
      stable: { selected: true, text: 'v1', value: 'v1' },
      canary: { selected: true, text: 'v2', value: 'v2' },
    });
    const promoted = dashboardMaps(await renderChart({ set: ['stable.version=v2', 'canary.version=v3'] }));
    expect(pickedVersions(promoted)).toEqual({
      stable: { selected: true, text: 'v2', value: 'v2' },
      canary: { selected: true, text: 'v3', value: 'v3' },
    });
    for (const map of promoted) {
      const file = `${map.metadata.name.slice('dashboard-'.length)}.json`;
      expect(map.data).toEqual({ [file]: await withVersions(file, 'v2', 'v3') });
    }
  });

  it('follows the sidecar label, value and folder from values', async () => {
    const maps = dashboardMaps(
      await renderChart({
        set: [
          'monitoring.dashboards.sidecarLabel=example.org/dashboard',
          'monitoring.dashboards.sidecarLabelValue=rs',
          'monitoring.dashboards.folder=Team A',
        ],
      }),
    );
    expect(maps).toHaveLength(4);
    for (const map of maps) {
      expect(map.metadata.labels?.['example.org/dashboard']).toBe('rs');
      expect(map.metadata.labels).not.toHaveProperty('grafana_dashboard');
      expect(map.metadata.annotations).toEqual({ grafana_folder: 'Team A' });
    }
  });

  it('renders none when monitoring.dashboards.enabled is false', async () => {
    expect(dashboardMaps(await renderChart({ set: ['monitoring.dashboards.enabled=false'] }))).toEqual([]);
  });

  it('every recording rule a dashboard uses is recorded by the chart', () => {
    const recorded = objects
      .filter((o) => o.kind === 'PrometheusRule')
      .flatMap((o) => (o.spec as { groups: Array<{ rules: Array<{ record?: string }> }> }).groups)
      .flatMap((g) => g.rules.map((r) => r.record))
      .filter((r): r is string => typeof r === 'string');
    const used = new Set(
      dashboardQueries({ namespace: 'ns', stable: 'v1', canary: 'v2' }).flatMap((q) => metricNames(q.expr)),
    );
    expect([...used].filter((name) => name.includes(':') && !recorded.includes(name))).toEqual([]);
  });
});

describe('dashboard models', () => {
  it('have the expected uids, titles, tags and variables', () => {
    expect(
      [...committed.values()].map((d) => [
        d.uid,
        d.title,
        d.tags,
        (d.templating.list ?? []).map((v) => `${v.name}:${v.type}`),
      ]),
    ).toEqual([
      [
        'rs-canary',
        'Restaurant Sentiment / Canary: stable vs canary',
        ['restaurant-sentiment'],
        ['datasource:datasource', 'namespace:query', 'stable:query', 'canary:query'],
      ],
      [
        'rs-experiment',
        'Restaurant Sentiment / People page experiment',
        ['restaurant-sentiment'],
        ['datasource:datasource', 'namespace:query'],
      ],
      [
        'rs-model',
        'Restaurant Sentiment / Model',
        ['restaurant-sentiment'],
        ['datasource:datasource', 'namespace:query', 'version:query'],
      ],
      [
        'rs-service-overview',
        'Restaurant Sentiment / Service overview',
        ['restaurant-sentiment'],
        ['datasource:datasource', 'namespace:query'],
      ],
    ]);
  });

  it('link to each other through their tag in the header, keeping time range and variables', () => {
    for (const model of committed.values()) {
      expect([model.uid, model.links]).toEqual([
        model.uid,
        [
          {
            title: 'Restaurant Sentiment',
            type: 'dashboards',
            icon: 'external link',
            tooltip: '',
            tags: ['restaurant-sentiment'],
            asDropdown: true,
            targetBlank: false,
            includeVars: true,
            keepTime: true,
            url: '',
          },
        ],
      ]);
    }
  });

  it('pick the namespace from scraped targets; the canary comparison defaults to placeholders the chart replaces', () => {
    const variables = committed.get('rs-canary')?.templating.list ?? [];
    const byName = Object.fromEntries(variables.map((v) => [v.name, v]));
    expect(byName.datasource.query).toBe('prometheus');
    expect(byName.namespace.query).toBe('label_values(up{component!=""}, namespace)');
    expect(byName.namespace.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    expect(byName.stable.query).toBe('label_values(up{namespace="$namespace", component!=""}, version)');
    expect(byName.canary.query).toBe('label_values(up{namespace="$namespace", component!=""}, version)');
    expect(VERSION_PLACEHOLDERS).toEqual({
      stable: '__RS_STABLE_VERSION__',
      canary: '__RS_CANARY_VERSION__',
    });
    expect(byName.stable.current).toEqual({
      selected: true,
      text: '__RS_STABLE_VERSION__',
      value: '__RS_STABLE_VERSION__',
    });
    expect(byName.canary.current).toEqual({
      selected: true,
      text: '__RS_CANARY_VERSION__',
      value: '__RS_CANARY_VERSION__',
    });
    // The placeholders appear nowhere else (each twice: text and value of its variable's default).
    const files = [...renderDashboardFiles()];
    for (const placeholder of Object.values(VERSION_PLACEHOLDERS)) {
      expect(files.map(([name, text]) => [name, text.split(placeholder).length - 1])).toEqual([
        ['rs-canary.json', 2],
        ['rs-experiment.json', 0],
        ['rs-model.json', 0],
        ['rs-service-overview.json', 0],
      ]);
    }
  });

  it.each(Object.keys(EXPECTED_PANELS))('%s has exactly the expected rows and panels', (uid) => {
    const model = committed.get(uid) as dashboard.Dashboard;
    expect((model.panels ?? []).map((p) => [p.type, p.title])).toEqual(EXPECTED_PANELS[uid]);
    expect((model.panels ?? []).map((p) => p.id)).toEqual(EXPECTED_PANELS[uid].map((_, i) => i + 1));
  });

  it('every panel reads Prometheus through $datasource, has a unit, a description and at least one query', () => {
    for (const model of committed.values()) {
      for (const p of panelsOf(model)) {
        const where = `${model.uid} / ${p.title}`;
        expect([where, p.datasource]).toEqual([where, { type: 'prometheus', uid: '${datasource}' }]);
        expect([where, typeof p.fieldConfig?.defaults.unit]).toEqual([where, 'string']);
        expect([where, (p.description ?? '').length > 40]).toEqual([where, true]);
        const targets = (p.targets ?? []) as Target[];
        expect([where, targets.length > 0]).toEqual([where, true]);
        targets.forEach((t, i) => {
          expect([where, t.refId, t.datasource, typeof t.expr, typeof t.legendFormat]).toEqual([
            where,
            String.fromCharCode(65 + i),
            { type: 'prometheus', uid: '${datasource}' },
            'string',
            'string',
          ]);
        });
      }
    }
  });

  it('panel titles are unique within each dashboard', () => {
    for (const model of committed.values()) {
      const titles = panelsOf(model).map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
    }
  });

  it('every selector of every query is restricted to the chosen namespace', () => {
    for (const model of committed.values()) {
      for (const p of panelsOf(model)) {
        for (const expr of exprs(p)) {
          const selectors = expr.match(/\{[^}]*\}/g) ?? [];
          expect([expr, selectors.length > 0]).toEqual([expr, true]);
          for (const selector of selectors)
            expect([expr, selector]).toEqual([expr, expect.stringContaining('namespace="$namespace"')]);
        }
      }
    }
  });

  it('queries use only the metrics and recording rules of the design contract, and these exactly', () => {
    const used = new Set<string>();
    for (const model of committed.values()) {
      for (const p of panelsOf(model)) {
        for (const expr of exprs(p)) {
          for (const name of metricNames(expr)) {
            expect([
              expr,
              [...CONTRACT_METRICS, ...CONTRACT_RULES].includes(name) ? 'contract' : name,
            ]).toEqual([expr, 'contract']);
            used.add(name);
          }
        }
      }
    }
    expect([...used].sort()).toEqual([
      'canary_decision',
      'canary_guardrail_p_value',
      'canary_weight',
      'component_version:http_request_duration_seconds:p50_5m',
      'component_version:http_request_duration_seconds:p95_5m',
      'component_version:http_request_duration_seconds:p99_5m',
      'component_version:http_requests:rate5m',
      'component_version:http_requests_5xx:ratio_rate5m',
      'feedback_total',
      'http_requests_total',
      'model_inference_duration_seconds_bucket',
      'model_info',
      'model_predictions_total',
      'model_service_request_duration_seconds_bucket',
      'people_page_views_total',
      'profile_clicks_total',
      'up',
      'version:feedback:rate1h',
      'version:feedback_wrong:ratio_rate1h',
      'version:model_input_oov_ratio:js_distance',
      'version:model_prediction_score:js_distance',
      'version:model_prediction_score_bucket:rate5m',
      'version:model_predictions:share_rate5m',
      'version_variant:people_page_views:rate1h',
      'version_variant:profile_clicks_per_view:ratio_rate1h',
      'visitors_total',
    ]);
  });

  it('the metric-name extraction sees through functions, label lists, matchers and ranges', () => {
    expect(
      metricNames(
        'sum by (version, le) (rate(a_bucket{le="+Inf", x=~"b|c"}[5m])) / ignoring (member) group_left () 60 * b:rule:rate5m{y="z"} and on (n) c',
      ),
    ).toEqual(['a_bucket', 'b:rule:rate5m', 'c']);
  });

  it('has the expected PromQL in key panels', () => {
    expect(exprs(panel('rs-service-overview', '5xx ratio'))).toEqual([
      'component_version:http_requests_5xx:ratio_rate5m{namespace="$namespace"}',
    ]);
    expect(exprs(panel('rs-service-overview', 'app latency p50 / p95 / p99'))).toEqual([
      'component_version:http_request_duration_seconds:p50_5m{namespace="$namespace", component="app"}',
      'component_version:http_request_duration_seconds:p95_5m{namespace="$namespace", component="app"}',
      'component_version:http_request_duration_seconds:p99_5m{namespace="$namespace", component="app"}',
    ]);
    expect(exprs(panel('rs-model', 'Feedback agreement'))).toEqual([
      '1 - version:feedback_wrong:ratio_rate1h{namespace="$namespace"}',
    ]);
    expect(exprs(panel('rs-model', 'Drift from the model’s held-out reference'))).toEqual([
      'version:model_prediction_score:js_distance{namespace="$namespace"}',
      'version:model_input_oov_ratio:js_distance{namespace="$namespace"}',
    ]);
    expect(exprs(panel('rs-model', 'Inference time p50 / p95 / p99'))[1]).toBe(
      'histogram_quantile(0.95, sum by (version, le) (rate(model_inference_duration_seconds_bucket{namespace="$namespace"}[$__rate_interval])))',
    );
    expect(exprs(panel('rs-experiment', 'Users assigned per arm'))).toEqual([
      'sum by (version, variant) (increase(visitors_total{namespace="$namespace"}[$__range]))',
    ]);
    expect(exprs(panel('rs-experiment', 'People page views per arm'))).toEqual([
      'sum by (version, variant) (increase(people_page_views_total{namespace="$namespace"}[$__range]))',
    ]);
    expect(exprs(panel('rs-service-overview', 'Request rate by route'))).toEqual([
      'sum by (component, version, route) (rate(http_requests_total{namespace="$namespace", route!~"/metrics|/healthz|/readyz"}[$__rate_interval]))',
    ]);
    expect(exprs(panel('rs-service-overview', 'Request rate by status'))).toEqual([
      'sum by (component, version, status) (rate(http_requests_total{namespace="$namespace", route!~"/metrics|/healthz|/readyz"}[$__rate_interval]))',
    ]);
    expect(exprs(panel('rs-experiment', 'Click-through per arm'))).toEqual([
      'sum by (version, variant) (increase(profile_clicks_total{namespace="$namespace"}[$__range])) / (sum by (version, variant) (increase(people_page_views_total{namespace="$namespace"}[$__range])) > 0)',
    ]);
    expect(exprs(panel('rs-experiment', 'Click-through per team member'))).toEqual([
      'sum by (version, variant, member) (increase(profile_clicks_total{namespace="$namespace"}[$__range])) / ignoring (member) group_left () (sum by (version, variant) (increase(people_page_views_total{namespace="$namespace"}[$__range])) > 0)',
    ]);
    expect(exprs(panel('rs-canary', 'Feedback answers per hour: stable and canary'))).toEqual([
      '3600 * version:feedback:rate1h{namespace="$namespace", version=~"$stable|$canary"}',
    ]);
    expect(exprs(panel('rs-canary', 'p95 latency: canary over stable'))).toEqual([
      'component_version:http_request_duration_seconds:p95_5m{namespace="$namespace", version="$canary"} / ignoring (version) component_version:http_request_duration_seconds:p95_5m{namespace="$namespace", version="$stable"}',
    ]);
    // Of stable's and canary's requests only: the shadow's mirrored copies are not users' requests.
    expect(exprs(panel('rs-canary', 'Request share per version'))).toEqual([
      'sum by (component, version) (component_version:http_requests:rate5m{namespace="$namespace", version=~"$stable|$canary"}) / ignoring (version) group_left () sum by (component) (component_version:http_requests:rate5m{namespace="$namespace", version=~"$stable|$canary"})',
    ]);
  });

  it('has the expected units and query modes in key panels', () => {
    const unit = (uid: string, title: string) => panel(uid, title).fieldConfig?.defaults.unit;
    expect(unit('rs-service-overview', 'Request rate')).toBe('reqps');
    expect(unit('rs-service-overview', '5xx ratio')).toBe('percentunit');
    expect(unit('rs-service-overview', 'p95 latency now')).toBe('s');
    expect(unit('rs-canary', 'Wrong-feedback share: stable and canary')).toBe('percentunit');
    expect(unit('rs-experiment', 'Click-through over time')).toBe('percentunit');
    const heatmap = panel('rs-model', 'Score distribution of $version');
    expect([
      heatmap.repeat,
      (heatmap.targets as Target[])[0].format,
      (heatmap.targets as Target[])[0].legendFormat,
    ]).toEqual(['version', 'heatmap', '{{le}}']);
    const arms = (panel('rs-experiment', 'Views, clicks and click-through per arm').targets ??
      []) as Target[];
    expect(arms.map((t) => [t.refId, t.instant, t.format])).toEqual([
      ['A', true, 'table'],
      ['B', true, 'table'],
      ['C', true, 'table'],
    ]);
  });

  it('the experiment never graphs raw click totals per arm: clicks appear only divided by views, or beside them', () => {
    for (const p of panelsOf(committed.get('rs-experiment') as dashboard.Dashboard)) {
      for (const expr of exprs(p)) {
        if (!expr.includes('profile_clicks') || expr.includes('/') || expr.includes('per_view')) continue;
        expect([p.title, exprs(p).some((e) => e.includes('people_page_views_total'))]).toEqual([
          p.title,
          true,
        ]);
      }
      if (/click-through/i.test(p.title ?? '') && p.type !== 'table')
        expect([p.title, p.fieldConfig?.defaults.unit]).toEqual([p.title, 'percentunit']);
      if (/users|click|views/i.test(p.title ?? '')) expect(p.description).toMatch(/arm/);
    }
    for (const title of ['Users assigned per arm', 'People page views per arm'])
      expect([title, panel('rs-experiment', title).description]).toEqual([
        title,
        expect.stringContaining('do not compare their click totals'),
      ]);
    // Users and views are different units, and each panel says what it counts.
    const users = panel('rs-experiment', 'Users assigned per arm').description;
    expect(users).toContain('A browser that refuses cookies is counted on every page view');
    // A browser the mesh moves to this version (its cookie names another one) is counted, as the app does.
    expect(users).toContain(
      'one moved here by a rollback or promotion (weight 0 or 100) still sends the cookie of the version it left, names another version than this one and is counted once more',
    );
    expect(users).toContain(
      'a tester who forces this version with the override header (routing.overrideHeader) while holding the other version’s cookie is counted on every page view',
    );
    expect(users).not.toContain('not counted again');
    expect(panel('rs-experiment', 'People page views per arm').description).toContain('a view, not a user');
    expect(panel('rs-experiment', 'Click-through per arm').description).toContain('never by raw totals');
  });

  it('every canary panel compares both versions', () => {
    for (const p of panelsOf(committed.get('rs-canary') as dashboard.Dashboard)) {
      if (CONTROLLER_ROW_PANELS.includes(p.title ?? '')) continue;
      for (const expr of exprs(p))
        expect([p.title, expr.includes('$stable') && expr.includes('$canary')]).toEqual([p.title, true]);
    }
  });
});

describe('dashboardQueries', () => {
  const queries = dashboardQueries({ namespace: 'rs-test', stable: 'v1', canary: 'v2' });

  it('lists every target of every panel with the variables replaced', () => {
    const targets = buildDashboards().reduce(
      (n, d) => n + panelsOf(d).reduce((m, p) => m + (p.targets ?? []).length, 0),
      0,
    );
    expect(queries).toHaveLength(targets);
    expect(targets).toBe(50);
    expect(new Set(queries.map((q) => q.dashboard))).toEqual(
      new Set(['rs-service-overview', 'rs-model', 'rs-experiment', 'rs-canary']),
    );
    for (const q of queries) expect([q.expr, /\$/.test(q.expr)]).toEqual([q.expr, false]);
    expect(queries.filter((q) => q.panel === 'p95 latency: canary over stable')).toEqual([
      {
        dashboard: 'rs-canary',
        panel: 'p95 latency: canary over stable',
        expr: 'component_version:http_request_duration_seconds:p95_5m{namespace="rs-test", version="v2"} / ignoring (version) component_version:http_request_duration_seconds:p95_5m{namespace="rs-test", version="v1"}',
      },
    ]);
    expect(queries.find((q) => q.panel === 'Score distribution of $version')?.expr).toBe(
      'sum by (le) (version:model_prediction_score_bucket:rate5m{namespace="rs-test", version=~"v1|v2"})',
    );
    expect(queries.find((q) => q.panel === 'Users assigned per arm')?.expr).toBe(
      'sum by (version, variant) (increase(visitors_total{namespace="rs-test"}[5m]))',
    );
    expect(queries.find((q) => q.panel === 'Request rate by route')?.expr).toBe(
      'sum by (component, version, route) (rate(http_requests_total{namespace="rs-test", route!~"/metrics|/healthz|/readyz"}[1m]))',
    );
  });

  it('substitutes the built-in intervals and both variable forms, and names an unknown variable', () => {
    const vars = {
      namespace: 'n',
      stable: 's',
      canary: 'c',
      rateInterval: '2m',
      range: '1h',
      interval: '30s',
    };
    expect(
      substituteVariables(
        'rate(x{a="$namespace",b="${canary}"}[$__rate_interval]) + y[$__range] + z[$__interval]',
        vars,
      ),
    ).toBe('rate(x{a="n",b="c"}[2m]) + y[1h] + z[30s]');
    expect(() => substituteVariables('x{a="$team"}', vars)).toThrow(
      'unknown dashboard variable $team in: x{a="$team"}',
    );
  });
});

const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const havePromtool = toolAvailable(
  existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found`,
  'the PromQL parse check',
  'apt-get install prometheus, or set PROMTOOL_PATH',
);

(havePromtool ? describe : describe.skip)('PromQL', () => {
  it('every dashboard expression parses (promtool check rules on a rule file of them)', async () => {
    const queries = dashboardQueries({ namespace: 'restaurant-sentiment', stable: 'v1', canary: 'v2' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-dashboard-promql-'));
    try {
      const file = path.join(dir, 'dashboards.rules.yaml');
      const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}:check`, expr: q.expr }));
      await writeFile(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
      const { stdout } = await run(PROMTOOL, ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('click-through panels show no value, not +Inf, for an arm with clicks but no People page view in range (promtool test rules)', async () => {
    const queries = dashboardQueries({
      namespace: 'restaurant-sentiment',
      stable: 'v1',
      canary: 'v2',
      range: '1h',
    });
    const expr = (panel: string) =>
      queries.find((q) => q.dashboard === 'rs-experiment' && q.panel === panel)?.expr;
    const arm = (version: string, variant: string) =>
      `namespace="restaurant-sentiment", component="app", version="${version}", pod="app-${version}-a", variant="${variant}"`;
    const test = {
      rule_files: [],
      evaluation_interval: '1m',
      tests: [
        {
          name: 'click-through with and without People page views',
          interval: '1m',
          input_series: [
            // control (v1): 6 views and 3 clicks on one card a minute.
            { series: `people_page_views_total{${arm('v1', 'control')}}`, values: '0+6x60' },
            {
              series: `profile_clicks_total{${arm('v1', 'control')}, member="ml-engineer"}`,
              values: '0+3x60',
            },
            // treatment (v2): a click a minute from a bookmarked card link, the People page never viewed.
            { series: `people_page_views_total{${arm('v2', 'treatment')}}`, values: '0x60' },
            {
              series: `profile_clicks_total{${arm('v2', 'treatment')}, member="ml-engineer"}`,
              values: '0+1x60',
            },
          ],
          promql_expr_test: [
            {
              expr: expr('Click-through per arm'),
              eval_time: '60m',
              exp_samples: [{ labels: '{version="v1", variant="control"}', value: 0.5 }],
            },
            {
              expr: expr('Click-through per team member'),
              eval_time: '60m',
              exp_samples: [
                { labels: '{version="v1", variant="control", member="ml-engineer"}', value: 0.5 },
              ],
            },
          ],
        },
      ],
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-dashboard-promql-'));
    try {
      await writeFile(path.join(dir, 'click-through.test.yaml'), stringify(test));
      // promtool prints what failed (expected and got samples) on stderr.
      const result = await run(PROMTOOL, ['test', 'rules', 'click-through.test.yaml'], { cwd: dir }).then(
        ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          output: `${error.stdout}${error.stderr}`,
        }),
      );
      expect(result).toEqual({ code: 0, output: 'Unit Testing:  click-through.test.yaml\n  SUCCESS\n\n' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('promtool rejects a broken expression (the check is real)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-dashboard-promql-'));
    try {
      const file = path.join(dir, 'broken.rules.yaml');
      await writeFile(
        file,
        stringify({ groups: [{ name: 'x', rules: [{ record: 'a:b:c', expr: 'sum by (version (x)' }] }] }),
      );
      await expect(run(PROMTOOL, ['check', 'rules', file])).rejects.toMatchObject({ code: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
