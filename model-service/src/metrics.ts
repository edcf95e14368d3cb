/** Prometheus metrics of model-service (prom-client), on a registry of their own per service instance. */
import { createServiceMetrics, initSeries, type HttpMetrics } from '@restaurant-sentiment/lib-service';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Values of the `sentiment` label of `model_predictions_total`. */
export const SENTIMENTS = ['positive', 'negative', 'unknown'] as const;
/** Values of the `agrees` label of `feedback_total` ("unknown": feedback without predictedLabel). */
export const FEEDBACK_AGREES = ['true', 'false', 'unknown'] as const;

/** The service's metrics. */
export interface ServiceMetrics {
  registry: Registry;
  /** http_requests_total and http_request_duration_seconds (lib-service). */
  http: HttpMetrics;
  predictions: Counter<'sentiment' | 'model_version'>;
  inferenceDuration: Histogram<string>;
  predictionScore: Histogram<'model_version'>;
  modelInfo: Gauge<'model_version' | 'lib_ml_version'>;
  feedback: Counter<'agrees'>;
}

/** Latency buckets of the HTTP histogram in seconds: inference answers in single milliseconds. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Creates the metrics on a fresh registry. `feedback_total` exists at 0 for every `agrees` value from
 * the start; `model_predictions_total` for every sentiment once a model is served
 * ({@link initModelSeries}).
 * @param defaults also collect prom-client's default process metrics (CPU, memory, event loop lag).
 */
export function createMetrics(defaults = true): ServiceMetrics {
  const { registry, http } = createServiceMetrics({ processMetrics: defaults, httpBuckets: HTTP_BUCKETS });
  const registers = [registry];
  const metrics: ServiceMetrics = {
    registry,
    http,
    predictions: new Counter({
      name: 'model_predictions_total',
      help: 'Predictions made, by predicted sentiment ("unknown": no known feature in the text) and model version',
      labelNames: ['sentiment', 'model_version'],
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'model_inference_duration_seconds',
      help: 'Time to vectorize and score one micro-batch, in seconds',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    predictionScore: new Histogram({
      name: 'model_prediction_score',
      help: 'Positive-class probability of each prediction (for drift watching)',
      labelNames: ['model_version'],
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers,
    }),
    modelInfo: new Gauge({
      name: 'model_info',
      help: 'The model being served (value 1)',
      labelNames: ['model_version', 'lib_ml_version'],
      registers,
    }),
    feedback: new Counter({
      name: 'feedback_total',
      help: 'Feedback received, by whether the user agreed with the prediction ("unknown" without predictedLabel)',
      labelNames: ['agrees'],
      registers,
    }),
  };
  initSeries(metrics.feedback, { agrees: FEEDBACK_AGREES });
  return metrics;
}

/** Creates `model_predictions_total` at 0 for every sentiment of `modelVersion`. */
export function initModelSeries(metrics: ServiceMetrics, modelVersion: string): void {
  initSeries(metrics.predictions, { sentiment: SENTIMENTS, model_version: [modelVersion] });
}
