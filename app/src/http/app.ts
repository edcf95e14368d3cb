/**
 * The review web app (Express 5, server-rendered with Eta, auto-escaped). No client-side script: the
 * Content-Security-Policy allows scripts from nowhere.
 */
import path from 'node:path';
import { Eta } from 'eta';
import {
  methodNotAllowed,
  requestContext,
  requestIdOf,
  toHttpError,
} from '@restaurant-sentiment/lib-service';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { APP_DIR, type AppConfig } from '../config.js';
import { initAppSeries, type AppMetrics, type FeedbackOutcome } from '../metrics.js';
import { ModelServiceError, type ModelServiceClient } from '../model-client.js';
import { teamCards, type TeamMember } from '../team.js';
import { cookieValue } from './cookies.js';
import { verdictOf } from './verdict.js';

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
  config: Pick<
    AppConfig,
    'variant' | 'rateLimitPerMinute' | 'trustProxy' | 'stickyCookieName' | 'stickyCookieValue'
  >;
  metrics: AppMetrics;
  modelService: ModelServiceClient;
  team: TeamMember[];
  log: Logger;
  appVersion: string;
}

/** Builds the Express app. */
export function createApp(deps: AppDeps): express.Express {
  const { config, metrics, modelService, team, log, appVersion } = deps;
  initAppSeries(
    metrics,
    config.variant,
    team.map((member) => member.id),
  );
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
  // Request id, HTTP metrics and access log (lib-service); static files are counted, not logged.
  app.use(
    requestContext({
      log,
      metrics: metrics.http,
      prefixes: ['/static'],
      quietRoutes: ['/metrics', '/healthz', '/readyz', '/static', '/favicon.ico'],
    }),
  );
  app.use('/static', express.static(path.join(APP_DIR, 'public'), { maxAge: '1h', index: false }));
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 20 }));

  /** Renders a page inside the layout; `modelVersion` is asked from model-service unless given. */
  const render = async (
    res: Response,
    view: string,
    data: Record<string, unknown>,
    status = 200,
  ): Promise<void> => {
    const modelVersion =
      (data.modelVersion as string | undefined) ??
      (await modelService.modelVersion({ requestId: requestIdOf(res) }));
    const html = eta.render(view, { ...data, appVersion, modelVersion, variant: config.variant });
    res.status(status).type('html').send(html);
  };

  const errorPage = (res: Response, status: number, heading: string, message: string) =>
    render(res, 'error', { title: heading, heading, message, status }, status);

  /**
   * Counts a new visitor (`visitors_total`) when a page view came without the version cookie
   * STICKY_COOKIE_NAME: the mesh's weighted route assigns a version to a browser without it and sets the
   * cookie on this very answer, so the browser's later requests carry it. A cookie naming another version
   * than STICKY_COOKIE_VALUE (when set) counts too: the mesh had no route left for that version and
   * assigned this one. Called once the page rendered;
   * only GET page views count (Express also routes HEAD to GET handlers), never a failed answer.
   */
  const countVisitor = (req: Request, res: Response): void => {
    const name = config.stickyCookieName;
    if (name === undefined || req.method !== 'GET' || res.statusCode !== 200) return;
    const value = cookieValue(req.headers.cookie, name);
    const assigned =
      value === undefined || (config.stickyCookieValue !== undefined && value !== config.stickyCookieValue);
    if (assigned) metrics.visitors.inc({ variant: config.variant });
  };

  app.get('/', async (req, res) => {
    await render(res, 'home', { title: 'Review', page: 'home', maxChars: MAX_REVIEW_CHARS });
    countVisitor(req, res);
  });

  // Browsers ask for /favicon.ico whatever the page links: answer with the SVG icon, not a 404 page.
  app.get('/favicon.ico', (_req, res) => {
    res.sendFile(path.join(APP_DIR, 'public', 'favicon.svg'), {
      headers: { 'content-type': 'image/svg+xml' },
      maxAge: '1d',
    });
  });

  // A reloaded or bookmarked result or thank-you page: the form posted there is gone, so go to the form.
  app.get(['/predict', '/feedback'], (_req, res) => {
    res.redirect(303, '/');
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
    const prediction = await modelService.predict(review, requestIdOf(res));
    metrics.predictions.inc({ sentiment: prediction.sentiment, model_version: prediction.modelVersion });
    await render(res, 'result', {
      title: prediction.sentiment === 'unknown' ? 'Can’t tell' : 'Result',
      page: 'result',
      review,
      prediction,
      verdict: verdictOf(prediction),
      modelVersion: prediction.modelVersion,
    });
  });

  /*
   * Two forms post here. On a prediction: `predicted` (0/1) and `verdict` (correct/wrong), the label being
   * `predicted` or its opposite. On a "can't tell" result: `label` (0/1) alone, sent without predictedLabel.
   * Both carry `review` and `model_version`; anything else is a 400.
   */
  app.post('/feedback', feedbackLimiter, async (req, res) => {
    const body = req.body ?? {};
    const review = formText(body.review);
    /** A 0/1 form field: undefined when absent, null when it holds anything else. */
    const bit = (value: unknown): 0 | 1 | null | undefined =>
      value === undefined ? undefined : value === '1' ? 1 : value === '0' ? 0 : null;
    const predicted = bit(body.predicted);
    const given = bit(body.label);
    const verdict: unknown = body.verdict;
    const modelVersion = typeof body.model_version === 'string' ? body.model_version.slice(0, 100) : '';
    let feedback: { label: 0 | 1; predictedLabel?: 0 | 1; outcome: FeedbackOutcome } | null = null;
    if (given === undefined && predicted != null && (verdict === 'correct' || verdict === 'wrong')) {
      const label = verdict === 'correct' ? predicted : predicted === 1 ? 0 : 1;
      feedback = { label, predictedLabel: predicted, outcome: verdict };
    } else if (given != null && predicted === undefined && verdict === undefined) {
      feedback = { label: given, outcome: 'labelled' };
    }
    if (!review.trim() || review.length > MAX_REVIEW_CHARS || !feedback || !modelVersion) {
      await errorPage(
        res,
        400,
        'Feedback not understood',
        'The feedback form was incomplete. Please analyze the review again.',
      );
      return;
    }
    const { label, predictedLabel, outcome } = feedback;
    // predictedLabel is left out of the JSON body when undefined (a "can't tell" result).
    await modelService.feedback({ text: review, label, predictedLabel, modelVersion }, requestIdOf(res));
    metrics.feedback.inc({ outcome });
    const names = ['negative', 'positive'] as const;
    await render(res, 'thanks', {
      title: 'Thank you',
      page: 'thanks',
      outcome,
      review,
      labelName: names[label],
      predictedName: predictedLabel === undefined ? null : names[predictedLabel],
      feedbackModelVersion: modelVersion,
    });
  });

  const cards = teamCards(team);
  app.get('/people', async (req, res) => {
    metrics.peopleViews.inc({ variant: config.variant });
    await render(res, 'people', { title: 'People', page: 'people', team: cards });
    countVisitor(req, res);
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

  // Readiness: the app is created only after its configuration and team file loaded, so it can serve
  // every page. It deliberately does not check model-service: were model-service down, every app pod
  // would turn unready and visitors would get the mesh's bare 503 instead of the app's own page saying
  // the model cannot be reached. While stopping, the server refuses new connections, which fails the
  // probe.
  app.get('/readyz', (_req, res) => {
    res.json({ status: 'ready', version: appVersion });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.use(methodNotAllowed(app));
  app.use(async (_req, res) => {
    await errorPage(res, 404, 'Page not found', 'There is nothing at this address.');
  });

  app.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof ModelServiceError) {
      log.warn(
        { reqId: requestIdOf(res), err: err.message, upstreamStatus: err.upstreamStatus },
        'model-service call failed',
      );
      await errorPage(
        res,
        err.status,
        'The sentiment service is not available',
        'We could not analyze your review right now. Please try again in a moment.',
      ).catch(() => res.status(err.status).send('The sentiment service is not available.'));
      return;
    }
    const { error, unexpected } = toHttpError(err);
    if (unexpected) {
      log.error({ reqId: requestIdOf(res), err }, 'unhandled error');
      await errorPage(
        res,
        500,
        'Something went wrong',
        'Something went wrong on our side. Please try again in a moment.',
      ).catch(() => res.status(500).type('text').send('Something went wrong on our side.'));
      return;
    }
    const [heading, message] =
      error.status === 405
        ? ['Method not allowed', `This address does not accept ${req.method} requests.`]
        : error.status === 413
          ? ['Request not accepted', 'That was more text than the form accepts.']
          : ['Request not accepted', 'The request could not be understood.'];
    res.set(error.headers);
    await errorPage(res, error.status, heading, message).catch(() => res.status(error.status).end());
  });
  return app;
}
