/**
 * Service lifecycle: listen at once (liveness, readiness 503), load the model in the background, then
 * report ready; on stop, refuse new connections, let in-flight requests finish (bounded by a timeout),
 * and flush feedback.
 */
import type { Server } from 'node:http';
import { LIB_ML_VERSION } from '@restaurant-sentiment/lib-ml';
import { gracefulStop, listen } from '@restaurant-sentiment/lib-service';
import { getVersion, type Registry } from '@restaurant-sentiment/lib-version';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { FeedbackWriter } from './feedback/writer.js';
import { createApp, type ServiceState } from './http/app.js';
import { BatchPredictor } from './inference/batcher.js';
import { createMetrics, exportDriftReference, initModelSeries, type ServiceMetrics } from './metrics.js';
import { loadServingModel, type ServingModel } from './model/load.js';

/** This service's version: APP_VERSION, else model-service/package.json, else "dev". */
export const SERVICE_VERSION = getVersion(new URL('../package.json', import.meta.url));

/**
 * Starts serving `model`: a micro-batching predictor whose batch times feed the inference histogram,
 * `model_info` set to 1 for its version, and the drift reference gauges from its manifest (a bundle
 * without a usable reference is served without them, with a warning when it has a broken one).
 * @param log where to warn about an unusable reference (default: nowhere).
 */
export function activateModel(
  state: ServiceState,
  metrics: ServiceMetrics,
  model: ServingModel,
  maxBatchSize: number,
  log?: Logger,
): void {
  state.model = model;
  state.predictor = new BatchPredictor(model.bundle, maxBatchSize, ({ seconds }) =>
    metrics.inferenceDuration.observe(seconds),
  );
  metrics.modelInfo.set({ model_version: model.version, lib_ml_version: LIB_ML_VERSION }, 1);
  initModelSeries(metrics, model.version);
  const reference = exportDriftReference(metrics, model.version, model.bundle.manifest.reference);
  if (reference.exported) {
    log?.info({ modelVersion: model.version, ...reference }, 'drift reference exported');
  } else if (model.bundle.manifest.reference === undefined) {
    log?.info({ modelVersion: model.version }, 'the model has no drift reference; drift is not measured');
  } else {
    log?.warn(
      { modelVersion: model.version, reason: reference.reason },
      'the model has an unusable drift reference; drift is not measured',
    );
  }
}

/** A running service. */
export interface RunningService {
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:5001. */
  url: string;
  state: ServiceState;
  metrics: ServiceMetrics;
  log: Logger;
  /** Resolves when the model is loaded and /readyz is 200; rejects when loading failed. */
  ready: Promise<ServingModel>;
  /** Graceful stop (see module doc). Resolves when everything is closed. */
  stop: () => Promise<void>;
}

/**
 * Starts the service.
 * @param options.registry a registry to load from instead of the configured one (tests).
 * @param options.log the logger (default: pino at config.logLevel).
 */
export async function startService(
  config: Config,
  options: { registry?: Registry; log?: Logger } = {},
): Promise<RunningService> {
  const log =
    options.log ??
    pino({ level: config.logLevel, base: { service: 'model-service', version: SERVICE_VERSION } });
  const metrics = createMetrics();
  const feedback = new FeedbackWriter(config.feedbackDir, config.feedbackMaxBytes, {
    writerId: config.feedbackWriterId,
    log,
  });
  await feedback.open(); // fail at start-up, not on the first /feedback, when FEEDBACK_DIR is unusable
  const state: ServiceState = { model: null, predictor: null };
  const app = createApp({ state, metrics, feedback, log, serviceVersion: SERVICE_VERSION });
  const { server, url, port } = await listen(app, {
    port: config.port,
    host: config.host,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  log.info(
    { port, modelVersion: config.modelVersion, modelSource: config.modelSource },
    'listening; loading model',
  );

  const ready = loadServingModel(config, log, options.registry).then((model) => {
    activateModel(state, metrics, model, config.maxBatchSize, log);
    log.info({ modelVersion: model.version, loadMs: model.loadMs }, 'ready');
    return model;
  });
  ready.catch(() => {}); // the caller handles it; avoid an unhandled rejection in between

  const stop = gracefulStop(server, {
    timeoutMs: config.shutdownTimeoutMs,
    log,
    cleanUp: async () => {
      await feedback.close();
      state.model?.bundle.model.dispose();
    },
  });

  return { server, url, state, metrics, log, ready, stop };
}
