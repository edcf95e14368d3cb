/**
 * The RED metrics of an HTTP service (Rate, Errors, Duration): `http_requests_total` and
 * `http_request_duration_seconds`, both labelled by route template, method and status code. The route
 * label is the Express route template (`/click/:member`), never the raw path, so the label set stays
 * bounded whatever clients send.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { createRegistry, type RegistryOptions } from '../metrics/registry.js';

/** Labels of the HTTP metrics. */
export type HttpLabel = 'route' | 'method' | 'status';

/** The two HTTP metrics. */
export interface HttpMetrics {
  requests: Counter<HttpLabel>;
  /** Seconds from the request's arrival to the last byte of the response. */
  duration: Histogram<HttpLabel>;
}

/** Default latency buckets in seconds: 1 ms … 5 s. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Registers the HTTP metrics on `registry`.
 * @param buckets histogram bucket upper bounds in seconds (ascending).
 */
export function createHttpMetrics(
  registry: Registry,
  buckets: number[] = HTTP_DURATION_BUCKETS,
): HttpMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by route template, method and status code',
      labelNames: ['route', 'method', 'status'],
      buckets,
      registers,
    }),
  };
}

/**
 * A fresh registry (see createRegistry) with the HTTP metrics on it: what every service starts from.
 * @param options.httpBuckets bucket upper bounds of `http_request_duration_seconds` in seconds.
 */
export function createServiceMetrics(options: RegistryOptions & { httpBuckets?: number[] } = {}): {
  registry: Registry;
  http: HttpMetrics;
} {
  const registry = createRegistry(options);
  return { registry, http: createHttpMetrics(registry, options.httpBuckets) };
}
