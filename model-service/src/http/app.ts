/**
 * The model-service HTTP API (Express 5). Every error is answered as JSON `{error, detail}` with a 4xx/5xx
 * status; nothing a client sends can crash the process.
 */
import { randomUUID } from 'node:crypto';
import { LIB_ML_VERSION, type Prediction } from '@restaurant-sentiment/lib-ml';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import typeis from 'type-is';
import type { z } from 'zod';
import type { FeedbackWriter } from '../feedback/writer.js';
import type { BatchPredictor } from '../inference/batcher.js';
import type { ServiceMetrics } from '../metrics.js';
import type { ServingModel } from '../model/load.js';
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

/** An error answered with `status` and `{error: code, detail}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** Route templates used as the `route` metric label; anything else is "unmatched". */
const ROUTES = [
  '/predict',
  '/predict/batch',
  '/feedback',
  '/version',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
];

function routeLabel(req: Request): string {
  if (req.route?.path) return String(req.route.path);
  const path = req.originalUrl.split('?')[0]; // req.path is relative inside mounted routers (/docs)
  if (path === '/docs' || path.startsWith('/docs/')) return '/docs';
  return ROUTES.includes(path) ? path : 'unmatched';
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

  // Request id, access log and HTTP metrics in one 'finish' listener. Successful requests are logged at
  // info, 4xx at warn, 5xx at error; the review text is never logged.
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = { route: routeLabel(req), method: req.method, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (
        labels.route !== '/metrics' &&
        labels.route !== '/healthz' &&
        labels.route !== '/readyz' &&
        log.isLevelEnabled(level)
      ) {
        log[level](
          {
            reqId: id,
            method: req.method,
            url: req.originalUrl,
            status: res.statusCode,
            ms: Math.round(seconds * 1e4) / 10,
          },
          'request',
        );
      }
    });
    next();
  });
  app.use(requireJson);
  // strict: false lets null/42/"text" through to validation, which says "expected object".
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));

  const ready = (): { model: ServingModel; predictor: BatchPredictor } => {
    if (!state.model || !state.predictor) {
      throw new HttpError(503, 'not_ready', 'the model is still loading; retry shortly');
    }
    return { model: state.model, predictor: state.predictor };
  };

  const record = (model: ServingModel, predictions: Prediction[]) =>
    predictions.map((p) => {
      metrics.predictions.inc({ sentiment: p.sentiment, model_version: model.version });
      metrics.predictionScore.observe({ model_version: model.version }, p.score);
      return { ...p, modelVersion: model.version };
    });

  app.post('/predict', async (req, res) => {
    const { text } = parseBody(predictRequest, req.body);
    const { model, predictor } = ready();
    const [p] = record(model, await predictor.predict([text]));
    res.json(p);
  });

  app.post('/predict/batch', async (req, res) => {
    const { texts } = parseBody(batchRequest, req.body);
    const { model, predictor } = ready();
    res.json(record(model, await predictor.predict(texts)));
  });

  app.post('/feedback', async (req, res) => {
    const input = parseBody(feedbackRequest, req.body);
    await feedback.append({ ...input, time: new Date().toISOString() });
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
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(doc, { customSiteTitle: 'model-service API' }));

  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    let error: HttpError;
    if (err instanceof HttpError) error = err;
    else if (e.type === 'entity.too.large')
      error = new HttpError(413, 'payload_too_large', `body over ${BODY_LIMIT}`);
    else if (e.type === 'entity.parse.failed')
      error = new HttpError(400, 'invalid_json', `body is not valid JSON: ${e.message}`);
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      error = new HttpError(415, 'unsupported_media_type', e.message ?? 'unsupported encoding');
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      error = new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
    } else {
      log.error({ reqId: res.getHeader('x-request-id'), err }, 'unhandled error');
      error = new HttpError(500, 'internal_error', 'the request failed; see the service log');
    }
    if (res.headersSent) return;
    res.status(error.status).json({ error: error.code, detail: error.message });
  });
  return app;
}
