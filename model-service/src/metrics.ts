/** Prometheus metrics of model-service (prom-client), on a registry of their own per service instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's metrics. */
export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  predictions: Counter<'sentiment' | 'model_version'>;
  inferenceDuration: Histogram<string>;
  predictionScore: Histogram<'model_version'>;
  modelInfo: Gauge<'model_version' | 'lib_ml_version'>;
  feedback: Counter<'agrees'>;
}

/**
 * Creates the metrics on a fresh registry.
 * @param defaults also collect prom-client's default process metrics (CPU, memory, event loop lag).
 */
export function createMetrics(defaults = true): ServiceMetrics {
  const registry = new Registry();
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
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    predictions: new Counter({
      name: 'model_predictions_total',
      help: 'Predictions made, by predicted sentiment and model version',
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
}
