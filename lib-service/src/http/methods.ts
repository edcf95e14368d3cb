/**
 * 405 Method Not Allowed (RFC 9110 §15.5.6): Express answers a known path with an unsupported method
 * with 404. {@link methodNotAllowed}, placed after the routes, finds the routes whose path matches and
 * answers 405 with an `Allow` header listing their methods instead.
 */
import type { Express, RequestHandler } from 'express';
import { HttpError } from './errors.js';

/** What this module reads of Express 5's router (package `router` 2.x): its layers and their routes. */
interface RouterLayer {
  /** false, or the match; `pattern` is the path (of several) that matched (router 2.x). */
  match(path: string): false | { pattern?: unknown };
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/**
 * The methods the routes of `app` accept for `path`, upper case, sorted; HEAD is added where GET is
 * (Express answers HEAD with the GET handler). `methods` is empty when no route matches; `route` is the
 * template of the first matching route.
 */
export function allowedMethods(app: Express, path: string): { methods: string[]; route?: string } {
  const stack = (app.router as unknown as { stack: RouterLayer[] }).stack;
  const methods = new Set<string>();
  let route: string | undefined;
  for (const layer of stack) {
    const match = layer.route ? layer.match(path) : false;
    if (!layer.route || !match) continue;
    route ??= typeof match.pattern === 'string' ? match.pattern : String(layer.route.path);
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return { methods: [...methods].sort(), route };
}

/**
 * A handler for after the routes of `app`: when a route matches the path but not the method, passes a
 * 405 `method_not_allowed` {@link HttpError} with `Allow`; otherwise passes on (to the 404 handler).
 * OPTIONS is answered 204 with `Allow` for known paths. The request is counted under the matching route's
 * template (`res.locals.route`), not as `unmatched`.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  return (req, res, next) => {
    const { methods: allowed, route } = allowedMethods(app, req.path);
    if (allowed.length === 0) {
      next();
      return;
    }
    res.locals.route = route; // the route label of the metrics (requestContext)
    const allow = [...allowed, 'OPTIONS'].sort().join(', ');
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow).status(204).end();
      return;
    }
    next(
      new HttpError(
        405,
        'method_not_allowed',
        `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`,
        {
          Allow: allow,
        },
      ),
    );
  };
}
