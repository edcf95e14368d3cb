/**
 * The model-service HTTP API (Express 5). Every error is answered as JSON `{error, detail}` with a 4xx/5xx
 * status; nothing a client sends can crash the process.
 */
import { LIB_ML_VERSION, oovRates, type Prediction } from '@restaurant-sentiment/lib-ml';
import {
  HttpError,
  jsonErrorHandler,
  methodNotAllowed,
  notFound,
  requestContext,
} from '@restaurant-sentiment/lib-service';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import typeis from 'type-is';
import type { z } from 'zod';
import { FeedbackUnavailableError, type FeedbackWriter } from '../feedback/writer.js';
import type { BatchPredictor } from '../inference/batcher.js';
import type { ServiceMetrics } from '../metrics.js';
import type { ServingModel } from '../model/load.js';
import { addDocsRoutes } from './docs.js';
import { openApiDocument } from './openapi.js';
import { batchRequest, describeIssues, feedbackRequest, predictRequest } from './schemas.js';

/** Largest accepted request body. */
export const BODY_LIMIT = '64kb';

/** What the app serves; `model` and `predictor` stay null until the model is loaded. */
export interface ServiceState {
  model: ServingModel | null;
  predictor: BatchPredictor | null;
}

/** Dependencies of {@link createApp}. */
export interface AppDeps {
  state: ServiceState;
  metrics: ServiceMetrics;
  feedback: FeedbackWriter;
  log: Logger;
  /** This service's version (lib-version getVersion). */
  serviceVersion: string;
}

/** Parses a body with a schema; throws 400 naming the fields. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body === undefined ? {} : body); // undefined: no body at all
  if (!result.success) throw new HttpError(400, 'invalid_request', describeIssues(result.error));
  return result.data;
}

/** Rejects POST bodies that are not JSON. */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  // Without a body there is no content type to check: validation then says which field is missing.
  if (req.method === 'POST' && typeis.hasBody(req) && !req.is('application/json')) {
    next(
      new HttpError(
        415,
        'unsupported_media_type',
        `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`,
      ),
    );
    return;
  }
  next();
}

/**
 * Builds the Express app.
 * @returns the app; it holds no timers, so tests can use it with supertest directly.
 */
export function createApp(deps: AppDeps): express.Express {
  const { state, metrics, feedback, log, serviceVersion } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Request id, HTTP metrics and access log (lib-service); the review text is never logged.
  app.use(requestContext({ log, metrics: metrics.http, prefixes: ['/docs'] }));
  app.use(['/predict', '/feedback'], requireJson); // (POST routes; other paths answer 405 first)
  // strict: false lets null/42/"text" through to validation, which says "expected object".
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));

  const ready = (): { model: ServingModel; predictor: BatchPredictor } => {
    if (!state.model || !state.predictor) {
      throw new HttpError(503, 'not_ready', 'the model is still loading; retry shortly');
    }
    return { model: state.model, predictor: state.predictor };
  };

  /** Counts `predictions` of `texts` (same order) in the metrics; returns the answers. */
  const record = (model: ServingModel, texts: readonly string[], predictions: Prediction[]) => {
    const labels = { model_version: model.version };
    // Drift: the share of each text's words the model does not know (a text without words has none).
    for (const rate of oovRates(model.bundle.vectorizer, texts)) {
      if (rate !== null) metrics.inputOovRatio.observe(labels, rate);
    }
    return predictions.map((p) => {
      metrics.predictions.inc({ sentiment: p.sentiment, ...labels });
      // "unknown" has no score: it is counted above, and kept out of the score histogram.
      if (p.score !== null) metrics.predictionScore.observe(labels, p.score);
      return { ...p, modelVersion: model.version };
    });
  };

  app.post('/predict', async (req, res) => {
    const { text } = parseBody(predictRequest, req.body);
    const { model, predictor } = ready();
    const [p] = record(model, [text], await predictor.predict([text]));
    res.json(p);
  });

  app.post('/predict/batch', async (req, res) => {
    const { texts } = parseBody(batchRequest, req.body);
    const { model, predictor } = ready();
    res.json(record(model, texts, await predictor.predict(texts)));
  });

  app.post('/feedback', async (req, res) => {
    const input = parseBody(feedbackRequest, req.body);
    try {
      await feedback.append({ ...input, time: new Date().toISOString() });
    } catch (error) {
      // Nothing was recorded (a failed write is cut back off the file): tell the client to retry.
      if (error instanceof FeedbackUnavailableError) {
        throw new HttpError(503, 'feedback_unavailable', error.message);
      }
      throw error;
    }
    const agrees =
      input.predictedLabel === undefined ? 'unknown' : String(input.predictedLabel === input.label);
    metrics.feedback.inc({ agrees });
    res.status(201).json({ status: 'recorded' });
  });

  app.get('/version', (_req, res) => {
    res.json({
      service: serviceVersion,
      model: state.model?.version ?? 'loading',
      libMl: LIB_ML_VERSION,
      bundleLibMlRange: state.model?.bundle.manifest.libMl.range ?? 'loading',
    });
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    if (state.model) res.json({ status: 'ready', modelVersion: state.model.version });
    else res.status(503).json({ error: 'not_ready', detail: 'the model is still loading' });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  const doc = openApiDocument(serviceVersion);
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  addDocsRoutes(app, 'model-service API');

  app.use(methodNotAllowed(app));
  app.use(notFound);
  app.use(jsonErrorHandler(log));
  return app;
}
