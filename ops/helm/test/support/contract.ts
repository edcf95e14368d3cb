/**
 * The recording rules the chart promises (the design contract of issue 9): dashboards, alerts and the
 * canary analysis query them by these names, so renaming one is a breaking change that these lists make
 * visible in review. In the order the PrometheusRule defines them.
 */
export const CONTRACT_RECORDING_RULES = [
  'component_version:http_requests:rate5m',
  'component_version:http_requests_5xx:rate5m',
  'component_version:http_requests_5xx:ratio_rate5m',
  'component_version:http_request_duration_seconds_bucket:rate5m',
  'component_version:http_request_duration_seconds:p50_5m',
  'component_version:http_request_duration_seconds:p95_5m',
  'component_version:http_request_duration_seconds:p99_5m',
  'version:model_predictions:share_rate5m',
  'version:model_prediction_score_bucket:rate5m',
  'version:feedback:rate1h',
  'version:feedback_wrong:ratio_rate1h',
  // Drift (issue 11): per model version, over monitoring.prometheusRule.drift.window.
  'version:model_prediction_score_bin:share',
  'version:model_prediction_score:js_distance',
  'version:model_input_oov_ratio_bin:share',
  'version:model_input_oov_ratio:js_distance',
  'version_variant:people_page_views:rate1h',
  'version_variant:profile_clicks:rate1h',
  'version_variant:profile_clicks_per_view:ratio_rate1h',
] as const;
