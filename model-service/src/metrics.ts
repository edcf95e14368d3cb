/** Prometheus metrics of model-service (prom-client), on a registry of their own per service instance. */
import {
  DriftReferenceError,
  leLabel,
  OOV_RATE_BUCKETS,
  parseDriftReference,
  PREDICTION_SCORE_BUCKETS,
  referenceShares,
} from '@restaurant-sentiment/lib-ml';
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
  /** Share of each text's word tokens the model's vectorizer does not know (lib-ml `oovRate`). */
  inputOovRatio: Histogram<'model_version'>;
  /** The model's reference bins (manifest `reference`): share of held-out predictions per score bin. */
  referencePredictionScore: Gauge<'model_version' | 'le'>;
  /** The model's reference bins: share of held-out texts per OOV-rate bin. */
  referenceInputOovRatio: Gauge<'model_version' | 'le'>;
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
      buckets: [...PREDICTION_SCORE_BUCKETS],
      registers,
    }),
    inputOovRatio: new Histogram({
      name: 'model_input_oov_ratio',
      help: "Share of a text's word tokens that the model's vectorizer does not know (texts without any word token are not observed)",
      labelNames: ['model_version'],
      buckets: [...OOV_RATE_BUCKETS],
      registers,
    }),
    referencePredictionScore: new Gauge({
      name: 'model_reference_prediction_score_share',
      help: "Share of the model's held-out reference predictions whose positive-class probability is in the bin (previous le, le]; not cumulative",
      labelNames: ['model_version', 'le'],
      registers,
    }),
    referenceInputOovRatio: new Gauge({
      name: 'model_reference_input_oov_ratio_share',
      help: "Share of the model's held-out reference texts whose OOV ratio is in the bin (previous le, le]; not cumulative",
      labelNames: ['model_version', 'le'],
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

/** What {@link exportDriftReference} did. */
export type ReferenceExport =
  { exported: true; predictionScoreBins: number; oovRatioBins: number } | { exported: false; reason: string };

/**
 * Sets the reference gauges of `modelVersion` from its manifest's `reference`: one series per bin (`le`
 * = the bin's upper bound, written as the live histogram writes it), the value being the bin's share
 * (0–1, the bins summing to 1), next to the live `model_prediction_score` and `model_input_oov_ratio`
 * histograms whose buckets they mirror. A histogram of the reference without any counted row exports
 * no series.
 * @param reference the manifest's `reference` as read (any JSON; undefined for bundles without one).
 * @returns whether gauges were set, or why not (no reference; a malformed one, or one with other bins,
 *   named by lib-ml's DriftReferenceError): the model is served either way, without drift reference.
 */
export function exportDriftReference(
  metrics: ServiceMetrics,
  modelVersion: string,
  reference: unknown,
): ReferenceExport {
  if (reference === undefined) return { exported: false, reason: 'the manifest has no reference' };
  let shares;
  try {
    shares = referenceShares(parseDriftReference(reference));
  } catch (error) {
    if (error instanceof DriftReferenceError) return { exported: false, reason: error.message };
    throw error;
  }
  const set = (gauge: Gauge<'model_version' | 'le'>, buckets: readonly number[], values: number[] | null) =>
    values?.forEach((share, i) => gauge.set({ model_version: modelVersion, le: leLabel(buckets[i]) }, share));
  set(metrics.referencePredictionScore, PREDICTION_SCORE_BUCKETS, shares.predictionScore);
  set(metrics.referenceInputOovRatio, OOV_RATE_BUCKETS, shares.oovRate);
  return {
    exported: true,
    predictionScoreBins: shares.predictionScore?.length ?? 0,
    oovRatioBins: shares.oovRate?.length ?? 0,
  };
}
