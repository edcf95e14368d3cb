/**
 * The chart's drift rules beyond what rules.test.ts checks for every rule: their bins are lib-ml's
 * (PREDICTION_SCORE_BUCKETS, OOV_RATE_BUCKETS, the buckets model-service's histograms and the pipeline's
 * reference use), each bin share de-accumulates exactly its own `le` bucket minus the one before, the
 * distances the committed promtool test expects are lib-ml's Jensen–Shannon distance (= SciPy's) of the
 * shares its input series describe, and values.schema.json refuses drift settings that make no sense.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  jensenShannonDistance,
  leLabel,
  OOV_RATE_BUCKETS,
  PREDICTION_SCORE_BUCKETS,
} from '@restaurant-sentiment/lib-ml';
import { parse } from 'yaml';
import { OPS_HELM_DIR } from '../src/helm/binary.js';
import { findObject, HelmError, renderChart } from '../src/helm/render.js';
import { ruleFileOf, type RuleFile } from '../src/monitoring/rule-file.js';

const HISTOGRAMS = [
  {
    metric: 'model_prediction_score',
    share: 'version:model_prediction_score_bin:share',
    distance: 'version:model_prediction_score:js_distance',
    reference: 'model_reference_prediction_score_share',
    bins: PREDICTION_SCORE_BUCKETS.map(leLabel),
  },
  {
    metric: 'model_input_oov_ratio',
    share: 'version:model_input_oov_ratio_bin:share',
    distance: 'version:model_input_oov_ratio:js_distance',
    reference: 'model_reference_input_oov_ratio_share',
    bins: OOV_RATE_BUCKETS.map(leLabel),
  },
];

let file: RuleFile;
const recorded = (name: string): string => {
  const rule = file.groups.flatMap((g) => g.rules).find((r) => r.record === name);
  if (!rule) throw new Error(`no recording rule ${name}`);
  return rule.expr;
};

beforeAll(async () => {
  file = ruleFileOf(findObject(await renderChart(), 'PrometheusRule', 'restaurant-sentiment'));
});

describe.each(HISTOGRAMS)('$share', ({ metric, share, bins }) => {
  it('de-accumulates the `le` buckets of lib-ml’s bins one by one and divides by the count, over the window', () => {
    const expr = recorded(share);
    const bucket = (le: string) =>
      `rate(${metric}_bucket{namespace="restaurant-sentiment", component="model-service", le="${le}"}[1h])`;
    const by = 'namespace, component, version, model_version';
    const terms = bins.map((le, i) =>
      i === 0
        ? `  sum by (${by}, le) (${bucket(le)})`
        : [
            `  sum by (${by}, le) (${bucket(le)})`,
            '  - ignoring (le) group_left',
            `  sum by (${by}) (${bucket(bins[i - 1])})`,
          ].join('\n'),
    );
    expect(expr).toBe(
      [
        '(',
        terms.join('\n  or\n'),
        ')',
        '/ ignoring (le) group_left ()',
        `(sum by (${by}) (rate(${metric}_count{namespace="restaurant-sentiment", component="model-service"}[1h])) > 0)`,
      ].join('\n'),
    );
  });
});

describe('the committed promtool test of the drift rules', () => {
  interface Series {
    series: string;
    values: string;
  }
  interface Test {
    name: string;
    input_series: Series[];
    promql_expr_test?: Array<{ expr: string; exp_samples: Array<{ labels: string; value: number }> }>;
  }
  /** Metric name and labels of a promtool series or sample notation `name{a="b", ...}`. */
  const parseSeries = (text: string) => {
    const match = /^([\w:]*)\{(.*)\}$/.exec(text.trim());
    if (!match) throw new Error(`cannot read series ${text}`);
    return {
      name: match[1],
      labels: Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
    };
  };

  it('expects for each distance lib-ml’s Jensen–Shannon distance of the shares its series describe', async () => {
    const tests = (
      parse(await readFile(path.join(OPS_HELM_DIR, 'test/promtool/drift.test.yaml'), 'utf8')) as {
        tests: Test[];
      }
    ).tests;
    const checked: string[] = [];
    for (const test of tests) {
      const series = test.input_series.map((s) => ({ ...parseSeries(s.series), values: s.values }));
      for (const check of test.promql_expr_test ?? []) {
        const histogram = HISTOGRAMS.find((h) => check.expr.includes(h.distance));
        if (!histogram) continue;
        for (const sample of check.exp_samples) {
          const { labels } = parseSeries(sample.labels);
          const ours = (s: (typeof series)[number]) =>
            s.labels.namespace === 'restaurant-sentiment' &&
            s.labels.version === labels.version &&
            s.labels.model_version === labels.model_version;
          // Live: the per-minute increase `0+<n>x<count>` of each cumulative bucket, summed over pods.
          const cumulative = histogram.bins.map((le) =>
            series
              .filter((s) => ours(s) && s.name === `${histogram.metric}_bucket` && s.labels.le === le)
              .reduce((sum, s) => sum + Number(/^0\+(\d+)x\d+$/.exec(s.values)![1]), 0),
          );
          const live = cumulative.map((c, i) => c - (i ? cumulative[i - 1] : 0));
          // Reference: the gauge's constant value `<share>x<count>` (the same on every pod).
          const reference = histogram.bins.map((le) =>
            Number(
              /^([\d.]+)x\d+$/.exec(
                series.find((s) => ours(s) && s.name === histogram.reference && s.labels.le === le)!.values,
              )![1],
            ),
          );
          const distance = jensenShannonDistance(live, reference);
          const where = `${test.name}: ${check.expr} ${labels.version}`;
          // Rounded to 12 decimals in the test (round(…, 1e-12)) or exact (0 and 1).
          expect([where, Math.abs(distance - sample.value) <= 6e-13]).toEqual([where, true]);
          checked.push(`${labels.version} ${histogram.metric} ${sample.value}`);
        }
      }
    }
    expect(checked.sort()).toEqual([
      'v1 model_input_oov_ratio 0',
      'v1 model_input_oov_ratio 1',
      'v1 model_prediction_score 0',
      'v1 model_prediction_score 0.791443790383',
      'v2 model_input_oov_ratio 0.273310693486',
      'v2 model_input_oov_ratio 0.53336792671',
      'v2 model_prediction_score 0.275692509053',
      'v2 model_prediction_score 0.38328920613',
    ]);
  });
});

describe('values.schema.json and monitoring.prometheusRule.drift', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-drift-values-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const PATTERN = '^[1-9][0-9]*(ms|s|m|h|d|w|y)([0-9]+(ms|s|m|h|d|w|y))*$';
  it.each([
    ['window: 0s', `- monitoring.prometheusRule.drift.window: Does not match pattern '${PATTERN}'`],
    ['window: 1 hour', `- monitoring.prometheusRule.drift.window: Does not match pattern '${PATTERN}'`],
    ['distance: 0', '- monitoring.prometheusRule.drift.distance: Must be greater than 0'],
    ['distance: 1.5', '- monitoring.prometheusRule.drift.distance: Must be less than or equal to 1'],
    [
      'minObservations: 0',
      '- monitoring.prometheusRule.drift.minObservations: Must be greater than or equal to 1',
    ],
    [
      'minObservations: 2.5',
      '- monitoring.prometheusRule.drift.minObservations: Invalid type. Expected: integer, given: number',
    ],
    [
      'for: soon',
      "- monitoring.prometheusRule.drift.for: Does not match pattern '^([0-9]+(ms|s|m|h|d|w|y))+$'",
    ],
    ['psi: true', '- monitoring.prometheusRule.drift: Additional property psi is not allowed'],
  ])('refuses %s', async (setting, line) => {
    const file = path.join(dir, 'values.yaml');
    await writeFile(file, `monitoring:\n  prometheusRule:\n    drift:\n      ${setting}\n`);
    const error = await renderChart({ valuesFiles: [file] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HelmError);
    expect((error as HelmError).stderr.split('\n')).toContain(line);
  });
});
