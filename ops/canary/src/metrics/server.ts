/**
 * The HTTP endpoint `canary run` exposes while it runs: `GET /metrics` (the canary metrics) and
 * `GET /healthz`; anything else is a JSON 404.
 */
import express, { type Express } from 'express';
import type { CanaryMetrics } from './metrics.js';

/** An express app serving `metrics` (see module doc). */
export function createMetricsApp(metrics: CanaryMetrics): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', (_req, res, next) => {
    metrics.text().then((text) => res.type(metrics.registry.contentType).send(text), next);
  });
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', detail: `no route ${req.method} ${req.path}` });
  });
  return app;
}
