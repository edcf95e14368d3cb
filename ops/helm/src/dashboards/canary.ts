/**
 * `rs-canary`: the stable and the canary version side by side on every guardrail of a canary release:
 * request share, error ratio, p95 latency, wrong-feedback share (with the answers behind it) and
 * prediction mix. The versions are the `stable` and `canary` variables: any version label value of the
 * namespace can be picked, and the dashboard opens on the chart's `stable.version`/`canary.version` (the
 * generated JSON holds {@link VERSION_PLACEHOLDERS} as their defaults, which
 * templates/monitoring/dashboards.yaml replaces, so after a promotion it opens on v2 and v3, not on a v1
 * that no longer runs). The canary-minus-stable and canary-over-stable panels are what the
 * CanaryErrorRatioWorse and CanaryLatencyWorse alerts compare with their thresholds.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { buildDashboard, IN_NAMESPACE, versionVariable } from './dashboard.js';
import { barGaugePanel, timeSeriesPanel } from './panels.js';

/** The dashboard's uid. */
export const CANARY_UID = 'rs-canary';

/**
 * The default (`current`) values of the `stable` and `canary` pickers in the generated JSON:
 * templates/monitoring/dashboards.yaml replaces each with `.Values.stable.version` /
 * `.Values.canary.version` when it packs the dashboard into its ConfigMap. Nothing else in any dashboard
 * contains them.
 */
export const VERSION_PLACEHOLDERS = {
  stable: '__RS_STABLE_VERSION__',
  canary: '__RS_CANARY_VERSION__',
} as const;

/** Matcher of both compared versions. */
const BOTH = `${IN_NAMESPACE}, version=~"$stable|$canary"`;
const STABLE = `${IN_NAMESPACE}, version="$stable"`;
const CANARY = `${IN_NAMESPACE}, version="$canary"`;

const BY_COMPONENT_VERSION = '{{component}} {{version}}';

/** Builds the canary comparison dashboard model. */
export function canaryDashboard(): dashboard.Dashboard {
  const ratio = 'component_version:http_requests_5xx:ratio_rate5m';
  const p95 = 'component_version:http_request_duration_seconds:p95_5m';
  const requests = 'component_version:http_requests:rate5m';
  return buildDashboard({
    uid: CANARY_UID,
    title: 'Restaurant Sentiment / Canary: stable vs canary',
    description:
      'The stable and the canary version side by side on every guardrail: request share, 5xx ratio, p95 latency, wrong-feedback share and prediction mix.',
    from: 'now-3h',
    variables: [
      versionVariable('stable', 'Stable', VERSION_PLACEHOLDERS.stable),
      versionVariable('canary', 'Canary', VERSION_PLACEHOLDERS.canary),
    ],
    rows: [
      {
        title: 'Traffic',
        panels: [
          timeSeriesPanel({
            title: 'Request share per version',
            description:
              "Each version's share of the requests its component answered in stable and canary together, 5 minute windows (ratio of component_version:http_requests:rate5m to the sum of both versions'). The shadow's mirrored copies are left out: no user sent them. The app's share follows the routing weights for new users plus the sticky users; model-service follows the app.",
            unit: units.PercentUnit,
            queries: [
              {
                expr: `sum by (component, version) (${requests}{${BOTH}}) / ignoring (version) group_left () sum by (component) (${requests}{${BOTH}})`,
                legend: BY_COMPONENT_VERSION,
              },
            ],
            min: 0,
            max: 1,
          }),
          timeSeriesPanel({
            title: 'Request rate per version',
            description:
              'Requests per second per component and version, 5 minute windows (component_version:http_requests:rate5m).',
            unit: units.RequestsPerSecond,
            queries: [
              { expr: `sum by (component, version) (${requests}{${BOTH}})`, legend: BY_COMPONENT_VERSION },
            ],
            min: 0,
          }),
        ],
      },
      {
        title: 'Errors',
        panels: [
          timeSeriesPanel({
            title: '5xx ratio: stable and canary',
            description: `Share of requests answered with a 5xx status per component, stable and canary, 5 minute windows (ratio, ${ratio}).`,
            unit: units.PercentUnit,
            queries: [{ expr: `${ratio}{${BOTH}}`, legend: BY_COMPONENT_VERSION }],
            min: 0,
          }),
          timeSeriesPanel({
            title: '5xx ratio: canary minus stable',
            description:
              "Canary's 5xx ratio minus stable's per component (difference of two ratios; above 0: the canary fails more often). CanaryErrorRatioWorse fires when it exceeds monitoring.prometheusRule.thresholds.canaryErrorRatioMargin.",
            unit: units.PercentUnit,
            queries: [
              {
                expr: `${ratio}{${CANARY}} - ignoring (version) ${ratio}{${STABLE}}`,
                legend: '{{component}}',
              },
            ],
          }),
        ],
      },
      {
        title: 'Latency',
        panels: [
          timeSeriesPanel({
            title: 'p95 latency: stable and canary',
            description: `95th percentile of the request duration per component, stable and canary, 5 minute windows (${p95}).`,
            unit: units.Seconds,
            queries: [{ expr: `${p95}{${BOTH}}`, legend: BY_COMPONENT_VERSION }],
            min: 0,
          }),
          timeSeriesPanel({
            title: 'p95 latency: canary over stable',
            description:
              "Canary's p95 latency divided by stable's per component (a factor: 1 = as fast, 2 = twice as slow). CanaryLatencyWorse fires when it exceeds monitoring.prometheusRule.thresholds.canaryLatencyFactor.",
            unit: units.NoUnit,
            queries: [
              { expr: `${p95}{${CANARY}} / ignoring (version) ${p95}{${STABLE}}`, legend: '{{component}}' },
            ],
            min: 0,
            decimals: 2,
          }),
        ],
      },
      {
        title: 'Model quality',
        panels: [
          timeSeriesPanel({
            title: 'Wrong-feedback share: stable and canary',
            description:
              'Share of feedback saying the prediction was wrong, stable and canary, over the last hour (ratio, version:feedback_wrong:ratio_rate1h). Read it with the number of answers beside it: the canary gets few users, and a share of few answers says little. WrongFeedbackShareHigh fires above monitoring.prometheusRule.thresholds.wrongFeedbackShare once enough answers came in.',
            unit: units.PercentUnit,
            queries: [{ expr: `version:feedback_wrong:ratio_rate1h{${BOTH}}`, legend: '{{version}}' }],
            min: 0,
            max: 1,
            width: 8,
          }),
          timeSeriesPanel({
            title: 'Feedback answers per hour: stable and canary',
            description:
              'Feedback answers that agree or disagree with a prediction, stable and canary, over the last hour (count, 3600 × version:feedback:rate1h): the sample size behind the wrong-feedback share beside it. WrongFeedbackShareHigh waits for monitoring.prometheusRule.thresholds.wrongFeedbackMinCount answers.',
            unit: units.Short,
            queries: [{ expr: `3600 * version:feedback:rate1h{${BOTH}}`, legend: '{{version}}' }],
            min: 0,
            width: 8,
          }),
          barGaugePanel({
            title: 'Prediction mix: stable and canary',
            description:
              'Share of predictions per sentiment, stable and canary, over the last 5 minutes (ratio, version:model_predictions:share_rate5m). A new model that shifts the mix predicts differently, for better or worse: check the wrong-feedback share next to it.',
            unit: units.PercentUnit,
            queries: [
              {
                expr: `version:model_predictions:share_rate5m{${BOTH}}`,
                legend: '{{sentiment}} ({{version}})',
              },
            ],
            min: 0,
            max: 1,
            width: 8,
          }),
        ],
      },
      {
        title: 'Canary controller (ops/canary)',
        panels: [
          timeSeriesPanel({
            title: 'Canary weight set by the controller',
            description:
              "The canary's share of new users that `canary run` last wrote to the VirtualService, in percent (canary_weight). Steps up on PASS, 0 on a rollback, 100 on promotion. Empty when no controller is scraped in this namespace (ops/canary/README.md: metrics.port).",
            unit: units.Percent,
            queries: [
              {
                expr: `max by (virtual_service) (canary_weight{${IN_NAMESPACE}})`,
                legend: '{{virtual_service}}',
              },
            ],
            min: 0,
            max: 100,
            width: 8,
          }),
          timeSeriesPanel({
            title: "Controller's decision per look",
            description:
              "The decision of the controller's last look (canary_decision, 1 for the current one): PASS moves to the next step, FAIL rolls back, INSUFFICIENT waits for data, HOLD waits because the data cannot be trusted (sample-ratio mismatch or Prometheus unreachable).",
            unit: units.NoUnit,
            queries: [
              { expr: `max by (decision) (canary_decision{${IN_NAMESPACE}}) > 0`, legend: '{{decision}}' },
            ],
            min: 0,
            max: 1,
            width: 8,
          }),
          timeSeriesPanel({
            title: 'Always-valid p-value per guardrail',
            description:
              'Always-valid p-value of "the canary is no worse than stable" per guardrail (canary_guardrail_p_value, a running minimum over the looks, so checking at every interval does not inflate false rollbacks). A guardrail fails when it drops below alpha divided by the number of guardrails.',
            unit: units.NoUnit,
            queries: [
              {
                expr: `max by (guardrail) (canary_guardrail_p_value{${IN_NAMESPACE}})`,
                legend: '{{guardrail}}',
              },
            ],
            min: 0,
            max: 1,
            width: 8,
          }),
        ],
      },
    ],
  });
}
