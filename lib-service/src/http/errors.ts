/**
 * One error format for every JSON API: status 4xx/5xx with body `{error: <code>, detail: <message>}`.
 * Route handlers throw {@link HttpError}; {@link toHttpError} maps everything else (body-parser errors,
 * unexpected exceptions) to one; {@link jsonErrorHandler} answers it.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';

/** An error answered with `status`, body `{error: code, detail: message}` and extra `headers`. */
export class HttpError extends Error {
  override name = 'HttpError';
  /**
   * @param status HTTP status code (4xx, 5xx).
   * @param code machine-readable error code, snake_case (`invalid_request`, `not_found`, ...).
   * @param detail what is wrong, for a person.
   * @param headers response headers to send with the error (e.g. `{Allow: 'GET, HEAD'}`).
   */
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

/** Fields body-parser and other http-errors style errors carry. */
interface HttpErrorLike {
  status?: number;
  type?: string;
  message?: string;
  limit?: number;
}

/**
 * Maps any error to an {@link HttpError}: HttpError as is; body-parser's errors to 413 `payload_too_large`,
 * 400 `invalid_json`, 415 `unsupported_media_type`; other errors with a 4xx `status` to `bad_request`;
 * everything else to 500 `internal_error` (with a generic detail: the real message may hold internals).
 * @returns the HttpError and whether it is unexpected (a 500 that should be logged with its stack).
 */
export function toHttpError(error: unknown): { error: HttpError; unexpected: boolean } {
  if (error instanceof HttpError) return { error, unexpected: error.status >= 500 };
  const e = (error ?? {}) as HttpErrorLike;
  if (e.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? ` of ${e.limit} bytes` : '';
    return {
      error: new HttpError(413, 'payload_too_large', `the body is over the limit${limit}`),
      unexpected: false,
    };
  }
  if (e.type === 'entity.parse.failed') {
    return {
      error: new HttpError(400, 'invalid_json', `the body is not valid JSON: ${e.message}`),
      unexpected: false,
    };
  }
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return {
      error: new HttpError(415, 'unsupported_media_type', e.message ?? 'unsupported encoding'),
      unexpected: false,
    };
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { error: new HttpError(e.status, 'bad_request', e.message ?? 'bad request'), unexpected: false };
  }
  return {
    error: new HttpError(500, 'internal_error', 'the request failed; see the service log'),
    unexpected: true,
  };
}

/**
 * The last handler of a JSON API: answers {@link toHttpError}'s result as `{error, detail}` and logs
 * unexpected errors (with the request id, never the body).
 */
export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const { error, unexpected } = toHttpError(err);
    if (unexpected) log.error({ reqId: res.locals.requestId, err }, 'unhandled error');
    if (res.headersSent) return;
    res.set(error.headers).status(error.status).json({ error: error.code, detail: error.message });
  };
}

/** A handler that passes a 404 `not_found` {@link HttpError} naming the method and path. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
};
