/**
 * Service lifecycle: listen at once (liveness, readiness 503), load the model in the background, then
 * report ready; on stop, refuse new connections, let in-flight requests finish (bounded by a timeout),
 * and flush feedback.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIB_ML_VERSION } from '@restaurant-sentiment/lib-ml';
import { getVersion, type Registry } from '@restaurant-sentiment/lib-version';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { FeedbackWriter } from './feedback/writer.js';
import { createApp, type ServiceState } from './http/app.js';
import { BatchPredictor } from './inference/batcher.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { loadServingModel, type ServingModel } from './model/load.js';

/** This service's version: APP_VERSION, else model-service/package.json, else "dev". */
export const SERVICE_VERSION = getVersion(new URL('../package.json', import.meta.url));

/**
 * Starts serving `model`: a micro-batching predictor whose batch times feed the inference histogram, and
 * `model_info` set to 1 for its version.
 */
export function activateModel(
  state: ServiceState,
  metrics: ServiceMetrics,
  model: ServingModel,
  maxBatchSize: number,
): void {
  state.model = model;
  state.predictor = new BatchPredictor(model.bundle, maxBatchSize, ({ seconds }) =>
    metrics.inferenceDuration.observe(seconds),
  );
  metrics.modelInfo.set({ model_version: model.version, lib_ml_version: LIB_ML_VERSION }, 1);
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
  const feedback = new FeedbackWriter(config.feedbackDir, config.feedbackMaxBytes);
  await feedback.open(); // fail at start-up, not on the first /feedback, when FEEDBACK_DIR is unusable
  const state: ServiceState = { model: null, predictor: null };
  const app = createApp({ state, metrics, feedback, log, serviceVersion: SERVICE_VERSION });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000; // a body trickling in for longer is cut off (Node's default is 300 s)
  server.headersTimeout = 15_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log.info(
    { port, modelVersion: config.modelVersion, modelSource: config.modelSource },
    'listening; loading model',
  );

  const ready = loadServingModel(config, log, options.registry).then((model) => {
    activateModel(state, metrics, model, config.maxBatchSize);
    log.info({ modelVersion: model.version, loadMs: model.loadMs }, 'ready');
    return model;
  });
  ready.catch(() => {}); // the caller handles it; avoid an unhandled rejection in between

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('stopping: no new connections; finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
      });
      if ((await Promise.race([closed, timeout])) === 'timeout') {
        log.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'in-flight requests did not finish in time; closing them',
        );
        server.closeAllConnections();
        await closed;
      }
      clearTimeout(timer);
      await feedback.close();
      state.model?.bundle.model.dispose();
      log.info('stopped');
    })());

  return { server, url, state, metrics, log, ready, stop };
}
