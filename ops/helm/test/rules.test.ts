/**
 * The chart's PrometheusRule: it holds exactly the recording rules and alerts of the design contract,
 * every alert has `for`, a severity, a summary, a description and a runbook_url pointing at its own
 * section of docs/runbooks.md, thresholds and the stable version come from values, and the rendered
 * `spec.groups` is a valid rule file (`promtool check rules`) that passes the committed promtool unit
 * tests in ops/helm/test/promtool/ (`promtool test rules`: every alert fires when it should and stays
 * silent just under its threshold; the key recording rules give exact values; nothing fires for another
 * namespace; the shadow model-service, rendered with test/values/shadow.yaml, never pages). Every vector
 * selector of every rule carries the release namespace, and the runbooks upgrade from the values file.
 *
 * Needs /usr/bin/promtool (Debian `prometheus`, or PROMTOOL_PATH): the promtool tests are skipped with a
 * warning when it is missing, and fail when CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { OPS_HELM_DIR, REPO_ROOT } from '../src/helm/binary.js';
import { findObject, renderChart, type K8sObject } from '../src/helm/render.js';
import {
  alertRules,
  levelTwoHeadings,
  recordNames,
  ruleFileOf,
  ruleFileText,
  runbookAnchor,
  type RuleFile,
} from '../src/monitoring/rule-file.js';
import { GOOD_CASES } from './support/cases.js';
import { CONTRACT_RECORDING_RULES } from './support/contract.js';
import { vectorSelectors } from './support/promql.js';
import { toolAvailable } from '../../../test/support/system-tool.js';

const run = promisify(execFile);

const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const havePromtool = toolAvailable(
  existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found`,
  'the promtool tests',
  'apt-get install prometheus, or set PROMTOOL_PATH',
);
const itWithPromtool = havePromtool ? it : it.skip;

/**
 * The committed promtool unit tests; their `rule_files` entry is `rules.yaml` (the chart's default values)
 * or `rules-shadow.yaml` (with test/values/shadow.yaml: a shadow model-service named `shadow`).
 */
const PROMTOOL_TESTS_DIR = path.join(OPS_HELM_DIR, 'test', 'promtool');
const RULES_FILE_NAME = 'rules.yaml';
const SHADOW_RULES_FILE_NAME = 'rules-shadow.yaml';
const RUNBOOKS = path.join(REPO_ROOT, 'docs', 'runbooks.md');
const DEPLOYMENT_DOC = path.join(REPO_ROOT, 'docs', 'deployment.md');
const caseFile = (name: string) => {
  const found = GOOD_CASES.find((c) => c.name === name);
  if (!found) throw new Error(`no values case ${name}`);
  return found.valuesFiles;
};
const RUNBOOK_URL = 'https://github.com/restaurant-sentiment/restaurant-sentiment/blob/main/docs/runbooks.md';

const RECORDS: readonly string[] = CONTRACT_RECORDING_RULES;

/** Alerts of the design contract (sorted). */
const ALERTS = [
  'CanaryErrorRatioWorse',
  'CanaryLatencyWorse',
  'HighErrorRatio',
  'HighLatencyP95',
  'ModelInputDrift',
  'ModelPredictionDrift',
  'ScrapeTargetMissing',
  'ServiceDown',
  'ServiceNotReady',
  'WrongFeedbackShareHigh',
];

/** The rule file of the chart rendered with `valuesFiles`. */
async function renderedRules(valuesFiles: string[] = []): Promise<{ objects: K8sObject[]; file: RuleFile }> {
  const objects = await renderChart({ valuesFiles });
  return { objects, file: ruleFileOf(findObject(objects, 'PrometheusRule', 'restaurant-sentiment')) };
}

/** The expression of the (first) alert named `name`. */
function alertExpr(file: RuleFile, name: string): string {
  const rule = alertRules(file).find((r) => r.alert === name);
  if (!rule) throw new Error(`no alert ${name}`);
  return rule.expr;
}

/** Runs promtool; resolves with stdout+stderr and the exit code (promtool reports failures on stdout). */
async function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** What a promtool unit-test file declares (only the parts this test reads). */
interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{
    name: string;
    alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
    promql_expr_test?: Array<{ expr: string; exp_samples?: unknown[] }>;
  }>;
}

async function promtoolTestFiles(): Promise<string[]> {
  return (await readdir(PROMTOOL_TESTS_DIR)).filter((name) => name.endsWith('.test.yaml')).sort();
}

describe('PrometheusRule restaurant-sentiment', () => {
  let file: RuleFile;
  let objects: K8sObject[];
  let dir: string;

  beforeAll(async () => {
    ({ objects, file } = await renderedRules());
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-rules-'));
    await writeFile(path.join(dir, RULES_FILE_NAME), ruleFileText(file));
    const { file: shadow } = await renderedRules(caseFile('shadow'));
    await writeFile(path.join(dir, SHADOW_RULES_FILE_NAME), ruleFileText(shadow));
    for (const name of await promtoolTestFiles()) {
      await copyFile(path.join(PROMTOOL_TESTS_DIR, name), path.join(dir, name));
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('carries the chart labels and the monitoring labels, in the release namespace', () => {
    const rule = findObject(objects, 'PrometheusRule', 'restaurant-sentiment');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.namespace).toBe('restaurant-sentiment');
    expect(rule.metadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'restaurant-sentiment',
      'app.kubernetes.io/managed-by': 'Helm',
      'app.kubernetes.io/instance': 'rs',
      'helm.sh/chart': 'restaurant-sentiment-0.1.0',
      release: 'kube-prometheus-stack',
    });
  });

  it('defines exactly the recording rules of the contract, each aggregated by namespace, component and version', () => {
    expect(recordNames(file)).toEqual(RECORDS);
    // Every aggregation keeps these three labels; the other rules are ratios or quantiles of such rules.
    const aggregations = file.groups
      .flatMap((group) => group.rules)
      .filter((rule) => rule.record)
      .flatMap((rule) => rule.expr.match(/sum by \([^)]*\)/g) ?? []);
    // 10 before the drift rules; each bin-share rule has two per bin but the first, and its count's.
    expect(aggregations.length).toBe(10 + (1 + 9 * 2 + 1) + (1 + 8 * 2 + 1) + 2 * 2);
    for (const aggregation of aggregations)
      expect(aggregation).toMatch(/^sum by \(namespace, component, version[,)]/);
  });

  it('defines the alerts of the contract, each with for, severity, summary, description and its runbook_url', () => {
    const alerts = alertRules(file);
    expect([...new Set(alerts.map((a) => a.alert))].sort()).toEqual(ALERTS);
    for (const alert of alerts) {
      expect({ alert: alert.alert, for: alert.for }).toEqual({
        alert: alert.alert,
        for: expect.stringMatching(/^\d+m$/),
      });
      expect(['critical', 'warning']).toContain(alert.labels?.severity);
      expect(Object.keys(alert.annotations ?? {}).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(alert.annotations?.summary).toMatch(/\S/);
      expect(alert.annotations?.description).toMatch(/\{\{ \$(labels|value)/);
      expect(alert.annotations?.runbook_url).toBe(`${RUNBOOK_URL}#${alert.alert.toLowerCase()}`);
    }
  });

  it('has a `## <AlertName>` runbook section for every alert, and no section for an alert that does not exist', async () => {
    const headings = levelTwoHeadings(await readFile(RUNBOOKS, 'utf8'));
    for (const alert of ALERTS) {
      expect(headings).toContain(alert);
      // The runbook_url fragment is the anchor GitHub gives the heading.
      expect(runbookAnchor(alert)).toBe(alert.toLowerCase());
    }
    const alertLike = headings.filter((heading) => /^[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*)+$/.test(heading));
    expect(alertLike.sort()).toEqual(ALERTS);
  });

  it('upgrades from the values file in the runbooks (as docs/deployment.md says), with its Secret names', async () => {
    const runbooks = await readFile(RUNBOOKS, 'utf8');
    const deployment = await readFile(DEPLOYMENT_DOC, 'utf8');
    // A --reuse-values/--set upgrade or a helm rollback is undone by the next upgrade from the values file.
    const commands = runbooks.match(/helm (?:upgrade|install|rollback)\b[^\n`]*/g) ?? [];
    expect(commands.length).toBeGreaterThan(1);
    expect([...new Set(commands)]).toEqual([
      'helm upgrade --install $RELEASE $CHART -n $NS -f my-values.yaml',
    ]);
    expect(runbooks.match(/--set [\w.]+=/g)).toBeNull();
    const secrets = (text: string) =>
      [...text.matchAll(/create secret (?:generic|tls) ([a-z0-9-]+)/g)].map((m) => m[1]).sort();
    expect(secrets(runbooks)).toEqual(['model-service-github']);
    for (const name of secrets(runbooks)) expect(secrets(deployment)).toContain(name);
  });

  it('takes every threshold and the stable version from values', async () => {
    const valuesFile = path.join(dir, 'thresholds.yaml');
    await writeFile(
      valuesFile,
      [
        'stable: { version: blue }',
        'canary: { version: green }',
        'monitoring:',
        '  prometheusRule:',
        '    thresholds:',
        '      errorRatio: 0.07',
        '      errorRatioMinRequestRate: 0.2',
        '      appP95Seconds: 0.8',
        '      modelServiceP95Seconds: 0.3',
        '      wrongFeedbackShare: 0.4',
        '      wrongFeedbackMinCount: 50',
        '      canaryErrorRatioMargin: 0.01',
        '      canaryLatencyFactor: 2',
        '      canaryMinRequestRate: 0.5',
        '    drift:',
        '      window: 30m',
        '      distance: 0.25',
        '      for: 10m',
        '      minObservations: 500',
        '',
      ].join('\n'),
    );
    const { file: custom } = await renderedRules([valuesFile]);
    expect(alertExpr(custom, 'HighErrorRatio')).toBe(
      [
        'component_version:http_requests_5xx:ratio_rate5m{namespace="restaurant-sentiment"} > 0.07',
        'and on (namespace, component, version)',
        'component_version:http_requests:rate5m{namespace="restaurant-sentiment"} >= 0.2',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'HighLatencyP95')).toBe(
      [
        'component_version:http_request_duration_seconds:p95_5m{namespace="restaurant-sentiment", component="app"} > 0.8',
        'or',
        'component_version:http_request_duration_seconds:p95_5m{namespace="restaurant-sentiment", component="model-service"} > 0.3',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'WrongFeedbackShareHigh')).toBe(
      [
        'version:feedback_wrong:ratio_rate1h{namespace="restaurant-sentiment"} > 0.4',
        'and on (namespace, component, version)',
        '(version:feedback:rate1h{namespace="restaurant-sentiment"} * 3600) >= 50',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'CanaryErrorRatioWorse')).toBe(
      [
        '(',
        '  component_version:http_requests_5xx:ratio_rate5m{namespace="restaurant-sentiment", version!="blue"}',
        '  - on (namespace, component) group_left',
        '  component_version:http_requests_5xx:ratio_rate5m{namespace="restaurant-sentiment", version="blue"}',
        ') > 0.01',
        'and on (namespace, component, version)',
        'component_version:http_requests:rate5m{namespace="restaurant-sentiment", version!="blue"} >= 0.5',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'CanaryLatencyWorse')).toBe(
      [
        'component_version:http_request_duration_seconds:p95_5m{namespace="restaurant-sentiment", version!="blue"}',
        '> on (namespace, component) group_left',
        '2 * component_version:http_request_duration_seconds:p95_5m{namespace="restaurant-sentiment", version="blue"}',
        'and on (namespace, component, version)',
        'component_version:http_requests:rate5m{namespace="restaurant-sentiment", version!="blue"} >= 0.5',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'ModelInputDrift')).toBe(
      [
        'version:model_input_oov_ratio:js_distance{namespace="restaurant-sentiment"} > 0.25',
        'and on (namespace, component, version, model_version)',
        'sum by (namespace, component, version, model_version) (increase(model_input_oov_ratio_count{namespace="restaurant-sentiment", component="model-service"}[30m])) >= 500',
      ].join('\n'),
    );
    expect(alertExpr(custom, 'ModelPredictionDrift')).toBe(
      [
        'version:model_prediction_score:js_distance{namespace="restaurant-sentiment"} > 0.25',
        'and on (namespace, component, version, model_version)',
        'sum by (namespace, component, version, model_version) (increase(model_prediction_score_count{namespace="restaurant-sentiment", component="model-service"}[30m])) >= 500',
      ].join('\n'),
    );
    const drift = alertRules(custom).filter((r) => r.alert.endsWith('Drift'));
    expect(drift.map((r) => r.for)).toEqual(['10m', '10m']);
    for (const record of [
      'version:model_prediction_score_bin:share',
      'version:model_input_oov_ratio_bin:share',
    ]) {
      const expr = custom.groups.flatMap((g) => g.rules).find((r) => r.record === record)?.expr ?? '';
      expect([record, expr.match(/\[\w+\]/g)?.every((w) => w === '[30m]')]).toEqual([record, true]);
    }
    expect(alertExpr(custom, 'ScrapeTargetMissing')).toBe(
      [
        'absent(up{namespace="restaurant-sentiment", component="app", version="blue"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="blue"})',
        'or absent(up{namespace="restaurant-sentiment", component="app", version="green"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="green"})',
      ].join('\n'),
    );
  });

  it('looks for scrape targets of the versions that run only: stable alone, or with a shadow model-service', async () => {
    const { file: stableOnly } = await renderedRules(caseFile('canary-off'));
    expect(alertExpr(stableOnly, 'ScrapeTargetMissing')).toBe(
      [
        'absent(up{namespace="restaurant-sentiment", component="app", version="v1"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="v1"})',
      ].join('\n'),
    );
    const { file: shadow } = await renderedRules(caseFile('shadow'));
    expect(alertExpr(shadow, 'ScrapeTargetMissing')).toBe(
      [
        'absent(up{namespace="restaurant-sentiment", component="app", version="v1"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="v1"})',
        'or absent(up{namespace="restaurant-sentiment", component="app", version="v2"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="v2"})',
        'or absent(up{namespace="restaurant-sentiment", component="model-service", version="shadow"})',
      ].join('\n'),
    );
  });

  it('reads only its own namespace: every vector selector of every rule carries namespace="<release namespace>"', async () => {
    // Another namespace than the tests' default, with a shadow, so that every rule the chart can render is seen.
    const objects = await renderChart({ namespace: 'shop', valuesFiles: caseFile('shadow') });
    const shop = ruleFileOf(findObject(objects, 'PrometheusRule', 'restaurant-sentiment'));
    const rules = shop.groups.flatMap((group) => group.rules);
    expect(rules.length).toBe(32);
    const unscoped: string[] = [];
    let selectors = 0;
    for (const rule of rules) {
      for (const selector of vectorSelectors(rule.expr)) {
        selectors++;
        const matchers = (selector.matchers ?? '').slice(1, -1).split(/,\s*/);
        if (!matchers.includes('namespace="shop"'))
          unscoped.push(`${rule.record ?? rule.alert}: ${selector.name ?? ''}${selector.matchers ?? ''}`);
      }
    }
    expect(unscoped).toEqual([]);
    // 47 before the drift rules; they add 20 + 18 (bin shares), 2 × 8 (distances) and 2 × 2 (alerts).
    expect(selectors).toBe(47 + 20 + 18 + 2 * 8 + 2 * 2);
  });

  it('finds the vector selectors of an expression, with or without matchers', () => {
    expect(
      vectorSelectors(
        'sum by (namespace, le) (rate(a_bucket{le="+Inf", x=~"b|c"}[5m])) / ignoring (v) group_left b:rule:rate5m > 0 and on (n) label_replace({x="y"}, "a", "$1", "b", "(.+)")',
      ),
    ).toEqual([
      { name: 'a_bucket', matchers: '{le="+Inf", x=~"b|c"}' },
      { name: 'b:rule:rate5m', matchers: null },
      { name: null, matchers: '{x="y"}' },
    ]);
  });

  it('is not rendered when monitoring.prometheusRule.enabled is false', async () => {
    const objects = await renderChart({ set: ['monitoring.prometheusRule.enabled=false'] });
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('has a promtool unit test in which each alert fires and one in which it stays silent, and tests every recording rule', async () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    const exprs: string[] = [];
    for (const name of await promtoolTestFiles()) {
      const test = parse(await readFile(path.join(PROMTOOL_TESTS_DIR, name), 'utf8')) as PromtoolTestFile;
      expect([name, test.rule_files.length, [RULES_FILE_NAME, SHADOW_RULES_FILE_NAME]]).toEqual([
        name,
        1,
        expect.arrayContaining(test.rule_files),
      ]);
      for (const group of test.tests) {
        for (const check of group.alert_rule_test ?? []) {
          (check.exp_alerts?.length ? fires : silent).add(check.alertname);
        }
        for (const check of group.promql_expr_test ?? []) {
          if (check.exp_samples?.length) exprs.push(check.expr);
        }
      }
    }
    expect([...fires].sort()).toEqual(ALERTS);
    expect([...silent].sort()).toEqual(ALERTS);
    for (const record of RECORDS) {
      expect({ record, tested: exprs.some((expr) => expr.split(/[^\w:]/).includes(record)) }).toEqual({
        record,
        tested: true,
      });
    }
  });

  itWithPromtool('is a valid Prometheus rule file (promtool check rules)', async () => {
    const result = await promtool(['check', 'rules', RULES_FILE_NAME], dir);
    expect(result).toEqual({ code: 0, output: `Checking ${RULES_FILE_NAME}\n  SUCCESS: 29 rules found\n\n` });
  });

  itWithPromtool('is valid for every values case of the chart tests (promtool check rules)', async () => {
    const checked: string[] = [];
    for (const valuesCase of GOOD_CASES) {
      const objects = await renderChart({ valuesFiles: valuesCase.valuesFiles });
      const rule = objects.find((o) => o.kind === 'PrometheusRule');
      if (!rule) continue; // a case with monitoring.prometheusRule off (minimal)
      checked.push(valuesCase.name);
      const caseFile = ruleFileOf(rule);
      const target = path.join(dir, `rules-${valuesCase.name}.yaml`);
      await writeFile(target, ruleFileText(caseFile));
      const result = await promtool(['check', 'rules', target], dir);
      expect({ case: valuesCase.name, ...result, output: result.output.split('\n')[1] }).toEqual({
        case: valuesCase.name,
        code: 0,
        output: `  SUCCESS: ${recordNames(caseFile).length + alertRules(caseFile).length} rules found`,
      });
    }
    expect(checked).toEqual(GOOD_CASES.map((c) => c.name).filter((name) => name !== 'minimal'));
  });

  describe('promtool unit tests', () => {
    // One jest test per committed file, so a failure names the file and shows promtool's report.
    const names = [
      'alerts-availability.test.yaml',
      'alerts-canary.test.yaml',
      'alerts-namespaces.test.yaml',
      'alerts-shadow.test.yaml',
      'alerts-traffic.test.yaml',
      'drift.test.yaml',
      'recording.test.yaml',
    ];

    it('covers every committed file', async () => {
      expect(await promtoolTestFiles()).toEqual(names);
    });

    for (const name of names) {
      itWithPromtool(`${name} passes (promtool test rules)`, async () => {
        const result = await promtool(['test', 'rules', name], dir);
        expect(result).toEqual({ code: 0, output: `Unit Testing:  ${name}\n  SUCCESS\n\n` });
      });
    }
  });
});
