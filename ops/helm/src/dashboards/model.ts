/**
 * `rs-model`: what the model does in each version: the model release served, the prediction mix, the
 * distribution of positive-class scores, how far scores and inputs have drifted from the model's held-out
 * reference, inference time, and how often users agree with the prediction (with the number of answers
 * behind that share).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { buildDashboard, IN_NAMESPACE, versionsVariable } from './dashboard.js';
import { heatmapPanel, statPanel, tablePanel, timeSeriesPanel, type PromQuery } from './panels.js';

/** The dashboard's uid. */
export const MODEL_UID = 'rs-model';

/** Query of the `version` picker: versions with a model-service that serves a model. */
export const MODEL_VERSIONS_QUERY = `label_values(model_info{${IN_NAMESPACE}}, version)`;

/** Inference time quantile of each version (model-service's model_inference_duration_seconds). */
function inferenceQuantile(quantile: number, name: string): PromQuery {
  return {
    expr: `histogram_quantile(${quantile}, sum by (version, le) (rate(model_inference_duration_seconds_bucket{${IN_NAMESPACE}}[$__rate_interval])))`,
    legend: `{{version}} ${name}`,
  };
}

/** Builds the model dashboard model. */
export function modelDashboard(): dashboard.Dashboard {
  return buildDashboard({
    uid: MODEL_UID,
    title: 'Restaurant Sentiment / Model',
    description:
      'Per version of model-service: model release served, prediction mix, score distribution, drift from the model’s reference, inference time and feedback agreement.',
    from: 'now-6h',
    variables: [versionsVariable('version', MODEL_VERSIONS_QUERY)],
    rows: [
      {
        title: 'Model releases',
        panels: [
          tablePanel({
            title: 'Model release served per version',
            description:
              'The model release (model_version) and lib-ml version each deployment version serves, from model_info. A canary can run a new app, a new model, or both.',
            unit: units.NoUnit,
            queries: [
              {
                expr: `max by (version, model_version, lib_ml_version) (model_info{${IN_NAMESPACE}})`,
                legend: '{{version}} {{model_version}}',
              },
            ],
            columns: [{ header: 'Value', unit: units.NoUnit, hidden: true }],
            height: 6,
          }),
          timeSeriesPanel({
            title: 'Prediction rate',
            description:
              'Predictions made per second per version (model_predictions_total, every sentiment).',
            unit: units.OpsPerSecond,
            queries: [
              {
                expr: `sum by (version) (rate(model_predictions_total{${IN_NAMESPACE}}[$__rate_interval]))`,
                legend: '{{version}}',
              },
            ],
            min: 0,
            height: 6,
          }),
        ],
      },
      {
        title: 'Predictions and scores',
        panels: [
          timeSeriesPanel({
            title: 'Prediction mix',
            description:
              'Share of predictions per sentiment (positive, negative, unknown = no known word) per version, 5 minute windows (ratio, version:model_predictions:share_rate5m). A canary whose mix moves away from stable predicts differently.',
            unit: units.PercentUnit,
            queries: [
              {
                expr: `version:model_predictions:share_rate5m{${IN_NAMESPACE}}`,
                legend: '{{version}} {{sentiment}}',
              },
            ],
            min: 0,
            max: 1,
          }),
          timeSeriesPanel({
            title: 'Median positive score',
            description:
              'Median positive-class probability of the predictions per version, estimated from the score histogram over 5 minute windows (histogram_quantile of version:model_prediction_score_bucket:rate5m). A drift here means the inputs or the model changed.',
            unit: units.NoUnit,
            queries: [
              {
                expr: `histogram_quantile(0.5, sum by (version, le) (version:model_prediction_score_bucket:rate5m{${IN_NAMESPACE}}))`,
                legend: '{{version}}',
              },
            ],
            min: 0,
            max: 1,
            decimals: 2,
          }),
          heatmapPanel({
            title: 'Score distribution of $version',
            description:
              'Predictions per second in each positive-class score bucket (0.1 wide) over time, for one version per panel (version:model_prediction_score_bucket:rate5m, de-accumulated by Grafana). Pick versions in the Version variable.',
            unit: units.OpsPerSecond,
            yUnit: units.NoUnit,
            queries: [
              {
                expr: `sum by (le) (version:model_prediction_score_bucket:rate5m{${IN_NAMESPACE}, version=~"$version"})`,
                legend: '{{le}}',
              },
            ],
            repeat: 'version',
            height: 9,
          }),
        ],
      },
      {
        title: 'Drift',
        panels: [
          timeSeriesPanel({
            title: 'Drift from the model’s held-out reference',
            description:
              'Jensen–Shannon distance (0 = same distribution, 1 = nothing in common) per version and model release between what model-service saw over the drift window (monitoring.prometheusRule.drift.window, 1 hour by default) and what its model gave on its held-out test reviews (the reference in its manifest): "scores" compares the positive-class scores (version:model_prediction_score:js_distance), "words" the share of unknown words per text (version:model_input_oov_ratio:js_distance). ModelPredictionDrift and ModelInputDrift fire above drift.distance (0.3). No line: the model has no reference or got no traffic in the window.',
            unit: units.NoUnit,
            queries: [
              {
                expr: `version:model_prediction_score:js_distance{${IN_NAMESPACE}}`,
                legend: '{{version}} scores ({{model_version}})',
              },
              {
                expr: `version:model_input_oov_ratio:js_distance{${IN_NAMESPACE}}`,
                legend: '{{version}} words ({{model_version}})',
              },
            ],
            min: 0,
            max: 1,
            decimals: 2,
            width: 24,
          }),
        ],
      },
      {
        title: 'Inference',
        panels: [
          timeSeriesPanel({
            title: 'Inference time p50 / p95 / p99',
            description:
              'Time to vectorize and score one micro-batch per version (quantiles of model_inference_duration_seconds over $__rate_interval windows). The HTTP latency of /predict is on the service overview.',
            unit: units.Seconds,
            queries: [
              inferenceQuantile(0.5, 'p50'),
              inferenceQuantile(0.95, 'p95'),
              inferenceQuantile(0.99, 'p99'),
            ],
            min: 0,
            width: 24,
          }),
        ],
      },
      {
        title: 'Feedback',
        panels: [
          timeSeriesPanel({
            title: 'Feedback agreement',
            description:
              'Share of feedback that agrees with the prediction per version over the last hour (ratio, 1 - version:feedback_wrong:ratio_rate1h). Read it with the number of answers next to it: a share of few answers says little.',
            unit: units.PercentUnit,
            queries: [
              { expr: `1 - version:feedback_wrong:ratio_rate1h{${IN_NAMESPACE}}`, legend: '{{version}}' },
            ],
            min: 0,
            max: 1,
            width: 8,
          }),
          timeSeriesPanel({
            title: 'Feedback volume',
            description:
              'Feedback answers that agree or disagree with a prediction, per minute and version, averaged over the last hour (60 × version:feedback:rate1h).',
            unit: units.CountsPerMinute,
            queries: [
              {
                expr: `60 * sum by (version) (version:feedback:rate1h{${IN_NAMESPACE}})`,
                legend: '{{version}}',
              },
            ],
            min: 0,
            width: 8,
          }),
          statPanel({
            title: 'Feedback answers in range',
            description:
              'Feedback answers received over the selected time range per version and whether they agreed with the prediction (agrees = true, false, or unknown when the prediction was not sent): the sample size behind the agreement share.',
            unit: units.Short,
            queries: [
              {
                expr: `sum by (version, agrees) (increase(feedback_total{${IN_NAMESPACE}, component="model-service"}[$__range]))`,
                legend: '{{version}} agrees={{agrees}}',
              },
            ],
            width: 8,
          }),
        ],
      },
    ],
  });
}
