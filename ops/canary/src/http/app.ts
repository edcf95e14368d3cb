/**
 * `canary serve`: the judge over HTTP, for teams that already run Flagger or Argo Rollouts.
 *
 * - `GET /healthz` → 200 `{"status":"ok"}`.
 * - `GET /metrics` → the canary metrics (src/metrics).
 * - Flagger webhooks (https://docs.flagger.app/usage/webhooks). Flagger POSTs
 *   `{name, namespace, phase, checksum, metadata}` (metadata: string → string; we read `stableVersion`,
 *   `canaryVersion`, `weight` (percent) and `since` (ISO time or minutes) from it, all optional).
 *   - `POST /flagger/confirm-promotion` and `POST /flagger/confirm-traffic-increase`: 200 only on PASS;
 *     otherwise 412, which keeps Flagger waiting (it goes on running its checks).
 *   - `POST /flagger/rollout`: 412 only on FAIL, which Flagger counts as a failed check (enough of them
 *     roll back); PASS, INSUFFICIENT and HOLD answer 200, so low traffic or a Prometheus outage never
 *     adds up to a rollback.
 *   Every answer's body is `{decision, proceed, summary, stable, canary, guardrails, srm}`.
 * - Argo Rollouts web metric (https://argoproj.github.io/argo-rollouts/analysis/web/):
 *   `GET /argo/judge?stable=v1&canary=v2[&weight=10][&since=...]` → 200
 *   `{decision, pass, summary, stable, canary, guardrails, srm}`; use `successCondition: result.pass == true`
 *   and `failureCondition: result.decision == "FAIL"`, so INSUFFICIENT and HOLD are inconclusive.
 * - Bad query or body → 400 `{error: "invalid_request", detail: "<what is wrong>"}`; unknown path → 404;
 *   wrong method → 405 with `Allow`.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseSince } from '../config/since.js';
import { versionName } from '../config/schema.js';
import type { CanaryMetrics } from '../metrics/metrics.js';
import type { AnalysisAnswer, Analyses } from './analyses.js';

/** An error answered as `status` with `{error: code, detail}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** What the app serves. */
export interface ServeDependencies {
  analyses: Analyses;
  metrics: CanaryMetrics;
  /** Now, ms since the epoch (for `since` in minutes). */
  now: () => number;
  log: Logger;
}

/** Flagger's webhook payload (CanaryWebhookPayload in fluxcd/flagger pkg/apis/flagger/v1beta1). */
const flaggerPayload = z.object({
  name: z.string().min(1, 'must not be empty'),
  namespace: z.string().min(1, 'must not be empty'),
  phase: z.string().min(1, 'must not be empty'),
  checksum: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/** Query of the Argo Rollouts web metric. */
const argoQuery = z.strictObject({
  stable: versionName.optional(),
  canary: versionName.optional(),
  weight: z.string().optional(),
  since: z.string().optional(),
});

/** "key: message; ..." of zod issues, with `prefix.` before each key. */
function issuesText(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((k) => `${prefix}${k}: unknown parameter`).join('; ');
      const key =
        issue.path.length > 0 ? `${prefix}${issue.path.join('.')}` : prefix.replace(/\.$/, '') || 'body';
      return `${key}: ${issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? 'is required' : issue.message}`;
    })
    .join('; ');
}

/** Checks and converts `weight` and `since` of a query or of Flagger's metadata. */
function weightAndSince(
  input: { weight?: string; since?: string },
  now: number,
  prefix: string,
): { weight?: number; since?: number } {
  let weight: number | undefined;
  if (input.weight !== undefined) {
    weight = Number(input.weight);
    if (input.weight.trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 100) {
      throw new HttpError(400, 'invalid_request', `${prefix}weight: must be a number of percent, 0–100`);
    }
  }
  let since: number | undefined;
  if (input.since !== undefined) {
    try {
      since = parseSince(input.since, now);
    } catch (error) {
      throw new HttpError(400, 'invalid_request', `${prefix}since: ${(error as Error).message}`);
    }
  }
  return { weight, since };
}

/** The decision and its evidence, as both engines get it. */
function answerBody(answer: AnalysisAnswer) {
  const j = answer.judgement;
  return {
    decision: answer.decision,
    summary: answer.summary,
    stable: answer.stableVersion ?? null,
    canary: answer.canaryVersion ?? null,
    window: {
      start: new Date(answer.window.start).toISOString(),
      end: new Date(answer.window.end).toISOString(),
    },
    guardrails: Object.fromEntries(
      (j?.guardrails ?? []).map((g) => [
        g.name,
        {
          verdict: g.verdict,
          estimate: g.estimate,
          interval: g.interval,
          pValue: g.pValue,
          reason: g.reason,
        },
      ]),
    ),
    srm: j ? { checked: j.srm.checked, pValue: j.srm.pValue, mismatch: j.srm.mismatch } : null,
  };
}

/** An async handler whose rejections go to the error handler. */
function handle(fn: (req: express.Request, res: express.Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res).catch(next);
  };
}

/** The express app of `canary serve` (see module doc). */
export function createServeApp(deps: ServeDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const routes: Record<string, string> = {};

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  routes['/healthz'] = 'GET';

  app.get(
    '/metrics',
    handle(async (_req, res) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.text());
    }),
  );
  routes['/metrics'] = 'GET';

  /** A Flagger gate: `proceed(decision)` says whether Flagger may go on (200) or not (412). */
  const flaggerGate = (proceed: (decision: AnalysisAnswer['decision']) => boolean) =>
    handle(async (req, res) => {
      if (
        req.body === undefined ||
        req.body === null ||
        typeof req.body !== 'object' ||
        Array.isArray(req.body)
      ) {
        throw new HttpError(
          400,
          'invalid_request',
          'the body must be a JSON object (Content-Type: application/json)',
        );
      }
      const parsed = flaggerPayload.safeParse(req.body);
      if (!parsed.success) throw new HttpError(400, 'invalid_request', issuesText(parsed.error));
      const { name, namespace, checksum, metadata = {} } = parsed.data;
      for (const key of ['stableVersion', 'canaryVersion'] as const) {
        const value = metadata[key];
        if (value !== undefined && !versionName.safeParse(value).success) {
          throw new HttpError(
            400,
            'invalid_request',
            `metadata.${key}: ${versionName.safeParse(value).error?.issues[0].message}`,
          );
        }
      }
      const { weight, since } = weightAndSince(metadata, deps.now(), 'metadata.');
      const answer = await deps.analyses.look({
        key: `flagger:${namespace}/${name}:${checksum ?? ''}`,
        stableVersion: metadata.stableVersion,
        canaryVersion: metadata.canaryVersion,
        weight,
        since,
      });
      const ok = proceed(answer.decision);
      res.status(ok ? 200 : 412).json({ ...answerBody(answer), proceed: ok });
    });

  const onlyPass = (decision: AnalysisAnswer['decision']) => decision === 'PASS';
  app.post('/flagger/confirm-promotion', express.json({ limit: '64kb' }), flaggerGate(onlyPass));
  app.post('/flagger/confirm-traffic-increase', express.json({ limit: '64kb' }), flaggerGate(onlyPass));
  app.post(
    '/flagger/rollout',
    express.json({ limit: '64kb' }),
    flaggerGate((decision) => decision !== 'FAIL'),
  );
  routes['/flagger/confirm-promotion'] = 'POST';
  routes['/flagger/confirm-traffic-increase'] = 'POST';
  routes['/flagger/rollout'] = 'POST';

  app.get(
    '/argo/judge',
    handle(async (req, res) => {
      const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
      for (const [key, value] of Object.entries(query)) {
        if (typeof value !== 'string') throw new HttpError(400, 'invalid_request', `${key}: give it once`);
      }
      const parsed = argoQuery.safeParse(query);
      if (!parsed.success) throw new HttpError(400, 'invalid_request', issuesText(parsed.error));
      const { stable, canary } = parsed.data;
      if (stable !== undefined && stable === canary) {
        throw new HttpError(400, 'invalid_request', 'canary: must differ from stable');
      }
      const { weight, since } = weightAndSince(parsed.data, deps.now(), '');
      const answer = await deps.analyses.look({
        key: `argo:${stable ?? ''}:${canary ?? ''}`,
        stableVersion: stable,
        canaryVersion: canary,
        weight,
        since,
      });
      res.json({ ...answerBody(answer), pass: answer.decision === 'PASS' });
    }),
  );
  routes['/argo/judge'] = 'GET';

  // Known path, other method → 405 with Allow; anything else → 404.
  app.use((req, res, next) => {
    const allowed = routes[req.path];
    if (!allowed) return next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
    const allow = allowed === 'GET' ? 'GET, HEAD' : allowed;
    res.set('Allow', allow);
    next(
      new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allowed}`),
    );
  });

  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, detail: err.message });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_json', detail: `the body is not valid JSON: ${e.message}` });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', detail: 'the body is over 64 kB' });
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'bad_request', detail: e.message ?? 'bad request' });
    } else {
      deps.log.error({ err }, 'unhandled error');
      res.status(500).json({ error: 'internal_error', detail: 'the request failed; see the log' });
    }
  };
  app.use(onError);
  return app;
}
