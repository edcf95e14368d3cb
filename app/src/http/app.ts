/**
 * The review web app (Express 5, server-rendered with Eta, auto-escaped). No client-side script: the
 * Content-Security-Policy allows scripts from nowhere.
 */
import path from 'node:path';
import { Eta } from 'eta';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { APP_DIR, type AppConfig } from '../config.js';
import type { AppMetrics } from '../metrics.js';
import { ModelServiceError, type ModelServiceClient } from '../model-client.js';
import type { TeamMember } from '../team.js';

/** Longest review accepted (characters), as model-service. */
export const MAX_REVIEW_CHARS = 5000;

/**
 * A form field as the text the user typed: browsers send textarea line breaks as CRLF but count them as
 * one character (maxlength), so they are normalized to LF before lengths are checked.
 */
function formText(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\r\n?/g, '\n') : '';
}

/** Dependencies of {@link createApp}. */
export interface AppDeps {
  config: Pick<AppConfig, 'variant' | 'rateLimitPerMinute' | 'trustProxy'>;
  metrics: AppMetrics;
  modelService: ModelServiceClient;
  team: TeamMember[];
  log: Logger;
  appVersion: string;
}

/** Route templates used as the `route` metric label; anything else is "unmatched". */
const ROUTES = new Set(['/', '/predict', '/feedback', '/people', '/metrics', '/healthz']);

function routeLabel(req: Request): string {
  if (req.route?.path) return String(req.route.path);
  if (req.path.startsWith('/static/')) return '/static';
  return ROUTES.has(req.path) ? req.path : 'unmatched';
}

/** Builds the Express app. */
export function createApp(deps: AppDeps): express.Express {
  const { config, metrics, modelService, team, log, appVersion } = deps;
  const eta = new Eta({ views: path.join(APP_DIR, 'views'), autoEscape: true, cache: true });
  const app = express();
  app.disable('x-powered-by');
  if (config.trustProxy > 0) app.set('trust proxy', config.trustProxy);

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          // The app is also served over plain HTTP (locally, inside the mesh): do not upgrade.
          upgradeInsecureRequests: null,
        },
      },
    }),
  );
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = { route: routeLabel(req), method: req.method, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      if (labels.route !== '/metrics' && labels.route !== '/healthz' && labels.route !== '/static') {
        const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
        log[level](
          { method: req.method, url: req.path, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 },
          'request',
        );
      }
    });
    next();
  });
  app.use('/static', express.static(path.join(APP_DIR, 'public'), { maxAge: '1h', index: false }));
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 20 }));

  /** Renders a page inside the layout; `modelVersion` is asked from model-service unless given. */
  const render = async (
    res: Response,
    view: string,
    data: Record<string, unknown>,
    status = 200,
  ): Promise<void> => {
    const modelVersion = (data.modelVersion as string | undefined) ?? (await modelService.modelVersion());
    const html = eta.render(view, { ...data, appVersion, modelVersion, variant: config.variant });
    res.status(status).type('html').send(html);
  };

  const errorPage = (res: Response, status: number, heading: string, message: string) =>
    render(res, 'error', { title: heading, heading, message }, status);

  app.get('/', async (_req, res) => {
    await render(res, 'home', { title: 'Review', page: 'home', maxChars: MAX_REVIEW_CHARS });
  });

  /** A per-client-IP limit of RATE_LIMIT_PER_MINUTE requests a minute, answered past it with a 429 page. */
  const perMinuteLimit = (heading: string, message: string) =>
    rateLimit({
      windowMs: 60_000,
      limit: config.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: async (_req, res) => {
        await errorPage(res, 429, heading, message);
      },
    });
  const predictLimiter = perMinuteLimit(
    'Too many reviews',
    'You have sent many reviews in a short time. Please wait a minute and try again.',
  );
  // Feedback goes into the training data: limit it like reviews, so nobody floods it.
  const feedbackLimiter = perMinuteLimit(
    'Too much feedback',
    'You have sent a lot of feedback in a short time. Please wait a minute.',
  );

  app.post('/predict', predictLimiter, async (req, res) => {
    const review = formText(req.body?.review);
    const problem =
      review.trim() === ''
        ? 'Please type a review first.'
        : review.length > MAX_REVIEW_CHARS
          ? `Your review is ${review.length} characters long; the limit is ${MAX_REVIEW_CHARS}.`
          : null;
    if (problem) {
      await render(
        res,
        'home',
        { title: 'Review', page: 'home', maxChars: MAX_REVIEW_CHARS, error: problem, review },
        400,
      );
      return;
    }
    metrics.reviewsSubmitted.inc();
    metrics.reviewLength.observe(review.length);
    const prediction = await modelService.predict(review);
    metrics.predictions.inc({ sentiment: prediction.sentiment, model_version: prediction.modelVersion });
    const confidence = Math.round((prediction.label === 1 ? prediction.score : 1 - prediction.score) * 100);
    await render(res, 'result', {
      title: 'Result',
      page: 'result',
      review,
      prediction,
      confidence,
      modelVersion: prediction.modelVersion,
    });
  });

  app.post('/feedback', feedbackLimiter, async (req, res) => {
    const body = req.body ?? {};
    const review = formText(body.review);
    const predicted = body.predicted === '1' ? 1 : body.predicted === '0' ? 0 : null;
    const verdict = body.verdict === 'correct' || body.verdict === 'wrong' ? body.verdict : null;
    const modelVersion = typeof body.model_version === 'string' ? body.model_version.slice(0, 100) : '';
    if (
      !review.trim() ||
      review.length > MAX_REVIEW_CHARS ||
      predicted === null ||
      !verdict ||
      !modelVersion
    ) {
      await errorPage(
        res,
        400,
        'Feedback not understood',
        'The feedback form was incomplete. Please analyze the review again.',
      );
      return;
    }
    const label = (verdict === 'correct' ? predicted : 1 - predicted) as 0 | 1;
    await modelService.feedback({ text: review, label, predictedLabel: predicted, modelVersion });
    metrics.feedback.inc({ outcome: verdict });
    await render(res, 'thanks', { title: 'Thank you', page: 'thanks', outcome: verdict });
  });

  app.get('/people', async (_req, res) => {
    metrics.peopleViews.inc({ variant: config.variant });
    await render(res, 'people', { title: 'People', page: 'people', team });
  });

  const members = new Map(team.map((m) => [m.id, m]));
  app.get('/click/:member', async (req, res) => {
    const member = members.get(req.params.member);
    if (!member) {
      await errorPage(res, 404, 'Not found', 'There is no such team member.');
      return;
    }
    metrics.profileClicks.inc({ member: member.id, variant: config.variant });
    res.redirect(302, member.profileUrl);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: appVersion });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.use(async (_req, res) => {
    await errorPage(res, 404, 'Page not found', 'There is nothing at this address.');
  });

  app.use(async (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof ModelServiceError) {
      log.warn({ err: err.message, upstreamStatus: err.upstreamStatus }, 'model-service call failed');
      await errorPage(
        res,
        err.status,
        'The sentiment service is not available',
        'We could not analyze your review right now. Please try again in a moment.',
      ).catch(() => res.status(err.status).send('The sentiment service is not available.'));
      return;
    }
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message =
        status === 413 ? 'That was more text than the form accepts.' : 'The request could not be understood.';
      await errorPage(res, status, 'Request not accepted', message).catch(() => res.status(status).end());
      return;
    }
    log.error({ err }, 'unhandled error');
    res.status(500).type('text').send('Something went wrong on our side.');
  });
  return app;
}
