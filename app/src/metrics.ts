/**
 * Prometheus metrics of the app (prom-client), every one labelled with `app_version` (a default label of
 * the registry, so process metrics carry it too). No ratio gauges: ratios are PromQL's job.
 */
import { createServiceMetrics, initSeries, type HttpMetrics } from '@restaurant-sentiment/lib-service';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Values of the `outcome` label of `feedback_total`: the prediction was confirmed (`correct`) or corrected
 * (`wrong`), or the model could not tell and the user gave the label (`labelled`).
 */
export const FEEDBACK_OUTCOMES = ['correct', 'wrong', 'labelled'] as const;
/** One value of the `outcome` label of `feedback_total`. */
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

/** The app's metrics. */
export interface AppMetrics {
  registry: Registry;
  /** http_requests_total and http_request_duration_seconds (lib-service). */
  http: HttpMetrics;
  reviewsSubmitted: Counter<string>;
  reviewLength: Histogram<string>;
  predictions: Counter<'sentiment' | 'model_version'>;
  feedback: Counter<'outcome'>;
  peopleViews: Counter<'variant'>;
  /** visitors_total: page views without the mesh's version cookie (browsers assigned a version). */
  visitors: Counter<'variant'>;
  profileClicks: Counter<'member' | 'variant'>;
  modelServiceDuration: Histogram<'endpoint' | 'outcome'>;
}

/**
 * Creates the metrics on a fresh registry.
 * @param appVersion value of the `app_version` label.
 * @param defaults also collect the default process metrics.
 */
export function createMetrics(appVersion: string, defaults = true): AppMetrics {
  const { registry, http } = createServiceMetrics({
    defaultLabels: { app_version: appVersion },
    processMetrics: defaults,
    httpBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const registers = [registry];
  return {
    registry,
    http,
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
      help: 'Predictions shown, by sentiment ("unknown": no known feature in the text) and model version',
      labelNames: ['sentiment', 'model_version'],
      registers,
    }),
    feedback: new Counter({
      name: 'feedback_total',
      help: 'Feedback given: outcome "correct" or "wrong" on a prediction, "labelled" on a can\'t-tell result',
      labelNames: ['outcome'],
      registers,
    }),
    peopleViews: new Counter({
      name: 'people_page_views_total',
      help: 'Views of the People page, by experiment variant',
      labelNames: ['variant'],
      registers,
    }),
    visitors: new Counter({
      name: 'visitors_total',
      help: 'New visitors: page views (GET, HTML pages) that arrived without the version cookie STICKY_COOKIE_NAME, i.e. browsers the mesh assigned a version just now; 0 when STICKY_COOKIE_NAME is unset',
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

/**
 * Creates at 0 the series dashboards divide by or count from, so that they have data from start-up:
 * `feedback_total` for every outcome, `people_page_views_total` and `visitors_total` for the variant this
 * instance serves and `profile_clicks_total` for every team member in it.
 * @param memberIds ids of the team members on the People page.
 */
export function initAppSeries(metrics: AppMetrics, variant: string, memberIds: readonly string[]): void {
  initSeries(metrics.feedback, { outcome: FEEDBACK_OUTCOMES });
  initSeries(metrics.peopleViews, { variant: [variant] });
  initSeries(metrics.visitors, { variant: [variant] });
  initSeries(metrics.profileClicks, { member: memberIds, variant: [variant] });
}
