/**
 * `rs-service-overview`: RED (rate, errors, duration) of app and model-service, per component and
 * version, from the chart's recording rules (`component_version:*`, 5 minute windows), plus the raw
 * per-route/per-status rates (without scrapes and probes) and the app's view of its calls to model-service.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { buildDashboard, IN_NAMESPACE } from './dashboard.js';
import { statPanel, timeSeriesPanel, type PromQuery } from './panels.js';

/** The dashboard's uid. */
export const SERVICE_OVERVIEW_UID = 'rs-service-overview';

const BY_COMPONENT_VERSION = '{{component}} {{version}}';

/**
 * Requests of visitors and services only: Prometheus' scrapes and the kubelet's probes are left out, as in
 * the chart's HTTP recording rules.
 */
const SERVED_REQUESTS = `http_requests_total{${IN_NAMESPACE}, route!~"/metrics|/healthz|/readyz"}`;

const REQUEST_RATE: PromQuery = {
  expr: `sum by (component, version) (component_version:http_requests:rate5m{${IN_NAMESPACE}})`,
  legend: BY_COMPONENT_VERSION,
};

const ERROR_RATIO: PromQuery = {
  expr: `component_version:http_requests_5xx:ratio_rate5m{${IN_NAMESPACE}}`,
  legend: BY_COMPONENT_VERSION,
};

/** The p50, p95 and p99 recording rules of one component, legend `<version> p95`. */
function latencyQuantiles(component: string): PromQuery[] {
  return (['p50', 'p95', 'p99'] as const).map((quantile) => ({
    expr: `component_version:http_request_duration_seconds:${quantile}_5m{${IN_NAMESPACE}, component="${component}"}`,
    legend: `{{version}} ${quantile}`,
  }));
}

/** Builds the service overview dashboard model. */
export function serviceOverviewDashboard(): dashboard.Dashboard {
  return buildDashboard({
    uid: SERVICE_OVERVIEW_UID,
    title: 'Restaurant Sentiment / Service overview',
    description:
      'Rate, errors and duration of app and model-service per component and version, from the recording rules of the chart (5 minute windows).',
    from: 'now-3h',
    rows: [
      {
        title: 'Now',
        panels: [
          statPanel({
            title: 'Scrape targets up',
            description:
              'Pods Prometheus scrapes successfully, per component and version (the value of up summed: 1 per healthy pod). A version missing here is not scraped at all.',
            unit: units.Short,
            queries: [
              {
                expr: `sum by (component, version) (up{${IN_NAMESPACE}, component!=""})`,
                legend: BY_COMPONENT_VERSION,
              },
            ],
            width: 6,
            height: 6,
          }),
          statPanel({
            title: 'Request rate now',
            description:
              'Requests per second answered over the last 5 minutes (recording rule component_version:http_requests:rate5m).',
            unit: units.RequestsPerSecond,
            queries: [REQUEST_RATE],
            width: 6,
            height: 6,
          }),
          statPanel({
            title: '5xx ratio now',
            description:
              'Share of requests answered with a 5xx status over the last 5 minutes (ratio, recording rule component_version:http_requests_5xx:ratio_rate5m). HighErrorRatio fires above monitoring.prometheusRule.thresholds.errorRatio.',
            unit: units.PercentUnit,
            queries: [ERROR_RATIO],
            width: 6,
            height: 6,
          }),
          statPanel({
            title: 'p95 latency now',
            description:
              '95th percentile of the request duration over the last 5 minutes (recording rule component_version:http_request_duration_seconds:p95_5m). HighLatencyP95 fires above the thresholds appP95Seconds / modelServiceP95Seconds.',
            unit: units.Seconds,
            queries: [
              {
                expr: `component_version:http_request_duration_seconds:p95_5m{${IN_NAMESPACE}}`,
                legend: BY_COMPONENT_VERSION,
              },
            ],
            width: 6,
            height: 6,
          }),
        ],
      },
      {
        title: 'Rate and errors',
        panels: [
          timeSeriesPanel({
            title: 'Request rate',
            description:
              'Requests per second per component and version, 5 minute windows (component_version:http_requests:rate5m).',
            unit: units.RequestsPerSecond,
            queries: [REQUEST_RATE],
            min: 0,
          }),
          timeSeriesPanel({
            title: '5xx ratio',
            description:
              'Share of requests answered with a 5xx status per component and version, 5 minute windows (ratio, component_version:http_requests_5xx:ratio_rate5m).',
            unit: units.PercentUnit,
            queries: [ERROR_RATIO],
            min: 0,
          }),
          timeSeriesPanel({
            title: 'Request rate by route',
            description:
              'Requests per second per route template, component and version (raw http_requests_total), without scrapes and probes (/metrics, /healthz, /readyz), as in the recording rules.',
            unit: units.RequestsPerSecond,
            queries: [
              {
                expr: `sum by (component, version, route) (rate(${SERVED_REQUESTS}[$__rate_interval]))`,
                legend: '{{component}} {{version}} {{route}}',
              },
            ],
            min: 0,
          }),
          timeSeriesPanel({
            title: 'Request rate by status',
            description:
              'Requests per second per HTTP status code, component and version (raw http_requests_total), without scrapes and probes (/metrics, /healthz, /readyz), as in the recording rules.',
            unit: units.RequestsPerSecond,
            queries: [
              {
                expr: `sum by (component, version, status) (rate(${SERVED_REQUESTS}[$__rate_interval]))`,
                legend: '{{component}} {{version}} {{status}}',
              },
            ],
            min: 0,
          }),
        ],
      },
      {
        title: 'Duration',
        panels: [
          timeSeriesPanel({
            title: 'app latency p50 / p95 / p99',
            description:
              "Quantiles of the app's request duration per version, 5 minute windows (component_version:http_request_duration_seconds:p50_5m, p95_5m, p99_5m).",
            unit: units.Seconds,
            queries: latencyQuantiles('app'),
            min: 0,
          }),
          timeSeriesPanel({
            title: 'model-service latency p50 / p95 / p99',
            description:
              "Quantiles of model-service's request duration per version, 5 minute windows (component_version:http_request_duration_seconds:p50_5m, p95_5m, p99_5m).",
            unit: units.Seconds,
            queries: latencyQuantiles('model-service'),
            min: 0,
          }),
          timeSeriesPanel({
            title: 'Calls to model-service from the app: p95',
            description:
              "95th percentile of the duration of the app's calls to model-service, per app version and endpoint, as the app measures them (including the mesh's retries).",
            unit: units.Seconds,
            queries: [
              {
                expr: `histogram_quantile(0.95, sum by (version, endpoint, le) (rate(model_service_request_duration_seconds_bucket{${IN_NAMESPACE}}[$__rate_interval])))`,
                legend: '{{version}} {{endpoint}}',
              },
            ],
            min: 0,
          }),
          timeSeriesPanel({
            title: 'Calls to model-service from the app by outcome',
            description:
              "The app's calls to model-service per second, per app version, endpoint and outcome (ok, error, unavailable), counted by the +Inf bucket of model_service_request_duration_seconds.",
            unit: units.RequestsPerSecond,
            queries: [
              {
                expr: `sum by (version, endpoint, outcome) (rate(model_service_request_duration_seconds_bucket{${IN_NAMESPACE}, le="+Inf"}[$__rate_interval]))`,
                legend: '{{version}} {{endpoint}} {{outcome}}',
              },
            ],
            min: 0,
          }),
        ],
      },
    ],
  });
}
