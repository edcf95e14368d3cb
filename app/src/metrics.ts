/**
 * Prometheus metrics of the app (prom-client), every one labelled with `app_version` (a default label of
 * the registry, so process metrics carry it too). No ratio gauges: ratios are PromQL's job.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The app's metrics. */
export interface AppMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  reviewsSubmitted: Counter<string>;
  reviewLength: Histogram<string>;
  predictions: Counter<'sentiment' | 'model_version'>;
  feedback: Counter<'outcome'>;
  peopleViews: Counter<'variant'>;
  profileClicks: Counter<'member' | 'variant'>;
  modelServiceDuration: Histogram<'endpoint' | 'outcome'>;
}

/**
 * Creates the metrics on a fresh registry.
 * @param appVersion value of the `app_version` label.
 * @param defaults also collect the default process metrics.
 */
export function createMetrics(appVersion: string, defaults = true): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app_version: appVersion });
  if (defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    reviewsSubmitted: new Counter({
      name: 'reviews_submitted_total',
      help: 'Reviews submitted through the form (valid ones)',
      registers,
    }),
    reviewLength: new Histogram({
      name: 'review_length_chars',
      help: 'Length of submitted reviews in characters',
      buckets: [10, 25, 50, 100, 200, 400, 800, 1600, 5000],
      registers,
    }),
    predictions: new Counter({
      name: 'predictions_total',
      help: 'Predictions shown, by sentiment and model version',
      labelNames: ['sentiment', 'model_version'],
      registers,
    }),
    feedback: new Counter({
      name: 'feedback_total',
      help: 'Feedback given on a prediction: outcome "correct" or "wrong"',
      labelNames: ['outcome'],
      registers,
    }),
    peopleViews: new Counter({
      name: 'people_page_views_total',
      help: 'Views of the People page, by experiment variant',
      labelNames: ['variant'],
      registers,
    }),
    profileClicks: new Counter({
      name: 'profile_clicks_total',
      help: 'Clicks on a team card, by member id and experiment variant',
      labelNames: ['member', 'variant'],
      registers,
    }),
    modelServiceDuration: new Histogram({
      name: 'model_service_request_duration_seconds',
      help: 'Calls to model-service in seconds, by endpoint and outcome (ok, error, unavailable)',
      labelNames: ['endpoint', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
