/**
 * The first middleware of every service: a request id, the RED metrics and the access log, all from one
 * `finish` listener.
 *
 * - Request id: a valid incoming `x-request-id` (1–128 of `[A-Za-z0-9_.-]`, as set by an ingress or the
 *   calling service) is kept, otherwise a random UUID is made; it is sent back as `x-request-id`, put on
 *   `res.locals.requestId` (for calls to other services and for log lines) and logged as `reqId`.
 * - Route label: the matched Express route template (with the mount path of a router), else the first
 *   of `prefixes` the path starts with (`/static`, `/docs`), else `unmatched`. Taken from
 *   `req.originalUrl`, because mounted middleware such as `express.static` rewrites `req.url`.
 * - Access log: one line per request (`request`) with reqId, method, route, path (no query string: it
 *   may carry secrets), status and ms; 2xx/3xx at info, 4xx at warn, 5xx at error. Requests to
 *   `quietRoutes` (probes, scrapes, static files) are counted but not logged.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { HttpMetrics } from './metrics.js';

/** Header carrying the request id between services. */
export const REQUEST_ID_HEADER = 'x-request-id';

const VALID_REQUEST_ID = /^[\w.-]{1,128}$/;

/** Options of {@link requestContext}. */
export interface RequestContextOptions {
  log: Logger;
  metrics: HttpMetrics;
  /** Path prefixes that are route labels of their own (mounted static files, docs), e.g. `['/static']`. */
  prefixes?: readonly string[];
  /** Route labels counted but not logged. Default: /metrics, /healthz, /readyz. */
  quietRoutes?: readonly string[];
}

/** The path of a request without the query string, as the client sent it (before any mount). */
export function requestPath(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The `route` label of a finished request (see module doc); a handler that knows the route without
 * Express having matched it (405s) puts it on `res.locals.route`.
 * @param prefixes path prefixes that are labels of their own.
 */
export function routeLabel(req: Request, prefixes: readonly string[] = []): string {
  const template: unknown = req.route?.path;
  if (typeof template === 'string') return `${req.baseUrl}${template}`;
  if (Array.isArray(template)) {
    // A route with several paths (`app.get(['/a', '/b'], ...)`): the one requested, when it is literal.
    const own = requestPath(req).slice(req.baseUrl.length);
    return `${req.baseUrl}${template.includes(own) ? own : template.join('|')}`;
  }
  if (typeof req.res?.locals.route === 'string') return req.res.locals.route;
  const path = requestPath(req);
  for (const prefix of prefixes) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return prefix;
  }
  return 'unmatched';
}

/** The request id of the request `res` answers (set by {@link requestContext}). */
export function requestIdOf(res: { locals: Record<string, unknown> }): string | undefined {
  const id = res.locals.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** Builds the middleware (see module doc). */
export function requestContext(options: RequestContextOptions): RequestHandler {
  const { log, metrics } = options;
  const prefixes = options.prefixes ?? [];
  const quiet = new Set(options.quietRoutes ?? ['/metrics', '/healthz', '/readyz']);
  return (req, res, next) => {
    const incoming = req.headers[REQUEST_ID_HEADER];
    const id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req, prefixes);
      const labels = { route, method: req.method, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      if (quiet.has(route)) return;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!log.isLevelEnabled(level)) return;
      log[level](
        {
          reqId: id,
          method: req.method,
          route,
          path: requestPath(req),
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    });
    next();
  };
}
