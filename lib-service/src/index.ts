/**
 * lib-service: what every HTTP service of the project shares (model-service, app, and the services that
 * come next): RED metrics, request ids and the access log, one JSON error format and 405s, configuration
 * from the environment, and graceful shutdown.
 */
export * from './config/env.js';
export * from './metrics/registry.js';
export * from './http/metrics.js';
export * from './http/errors.js';
export * from './http/methods.js';
export * from './http/request-context.js';
export * from './lifecycle/server.js';
