/**
 * `canary serve` with supertest and a fake LookSource: Flagger's webhooks (status codes per decision and
 * per gate, the body), the Argo Rollouts web metric (JSON for successCondition), the state carried
 * between calls of one analysis, HOLD on Prometheus and Kubernetes failures, and 400s naming the problem.
 */
import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import type { LookSource, RouteState } from '../src/controller/ports.js';
import { Analyses } from '../src/http/analyses.js';
import { createServeApp } from '../src/http/app.js';
import type { Decision } from '../src/judge/types.js';
import { CanaryMetrics } from '../src/metrics/metrics.js';
import {
  FIXED_JUDGEMENT,
  lookWith,
  scriptedJudge,
  scriptedLooks,
  TEST_JUDGE_CONFIG,
} from './support/judgements.js';

const NOW = Date.UTC(2024, 4, 1, 10, 0, 0);

function setup(
  decisions: Decision[],
  options: {
    looks?: LookSource;
    readRoutes?: () => Promise<RouteState>;
    versions?: { stableVersion?: string; canaryVersion?: string };
  } = {},
) {
  let now = NOW;
  const judge = scriptedJudge(decisions);
  const looks = scriptedLooks([lookWith(900, 100)]);
  const metrics = new CanaryMetrics({ namespace: 'rs', virtualService: 'app' });
  const log = pino({ level: 'silent' });
  const analyses = new Analyses({
    looks: options.looks ?? looks.source,
    judge: judge.judge,
    judgeConfig: TEST_JUDGE_CONFIG,
    target: { namespace: 'rs', component: 'app', source: 'service', ...options.versions },
    readRoutes:
      'readRoutes' in options
        ? options.readRoutes
        : async () => ({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 10 }),
    metrics,
    now: () => now,
    log,
  });
  const app = createServeApp({ analyses, metrics, now: () => now, log });
  return {
    app,
    judge,
    looks,
    metrics,
    tick(ms: number) {
      now += ms;
    },
  };
}

const FLAGGER = { name: 'app', namespace: 'rs', phase: 'Progressing', checksum: 'abc123', metadata: {} };

/** The guardrails object every answer carries for FIXED_JUDGEMENT. */
const GUARDRAILS = Object.fromEntries(
  FIXED_JUDGEMENT.guardrails.map((g) => [
    g.name,
    { verdict: g.verdict, estimate: g.estimate, interval: g.interval, pValue: g.pValue, reason: g.reason },
  ]),
);

describe('canary serve', () => {
  test('GET /healthz and GET /metrics', async () => {
    const { app } = setup(['PASS']);
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toContain('canary_looks_total 0');
  });

  test('confirm-promotion: 200 with the whole answer on PASS', async () => {
    const { app, tick } = setup(['PASS']);
    tick(0);
    const response = await request(app)
      .post('/flagger/confirm-promotion')
      .send({ ...FLAGGER, metadata: { since: '30' } })
      .expect(200);
    expect(response.body).toEqual({
      decision: 'PASS',
      proceed: true,
      summary: 'summary PASS',
      stable: 'v1',
      canary: 'v2',
      window: { start: '2024-05-01T09:30:00.000Z', end: '2024-05-01T10:00:00.000Z' },
      guardrails: GUARDRAILS,
      srm: { checked: true, pValue: 0.5716, mismatch: false },
    });
  });

  test.each([
    ['/flagger/confirm-promotion', 'INSUFFICIENT', 412],
    ['/flagger/confirm-promotion', 'HOLD', 412],
    ['/flagger/confirm-promotion', 'FAIL', 412],
    ['/flagger/confirm-traffic-increase', 'PASS', 200],
    ['/flagger/confirm-traffic-increase', 'INSUFFICIENT', 412],
    ['/flagger/rollout', 'PASS', 200],
    ['/flagger/rollout', 'INSUFFICIENT', 200],
    ['/flagger/rollout', 'HOLD', 200],
    ['/flagger/rollout', 'FAIL', 412],
  ] as [string, Decision, number][])('%s answers %s with %i', async (path, decision, status) => {
    const { app } = setup([decision]);
    const response = await request(app)
      .post(path)
      .send({ ...FLAGGER, metadata: { since: '10' } });
    expect(response.status).toBe(status);
    expect(response.body.decision).toBe(decision);
    expect(response.body.proceed).toBe(status === 200);
  });

  test('repeated calls of one Flagger canary are looks of one analysis: same start, carried state', async () => {
    const { app, judge, looks, tick } = setup(['INSUFFICIENT', 'INSUFFICIENT', 'PASS']);
    const first = await request(app).post('/flagger/rollout').send(FLAGGER).expect(200);
    // The first call starts the analysis: there is nothing to count yet, and Prometheus is not asked.
    expect(first.body).toMatchObject({
      decision: 'INSUFFICIENT',
      summary: 'the analysis starts now: counts accumulate from this call on; ask again after an interval',
    });
    tick(60_000);
    await request(app).post('/flagger/rollout').send(FLAGGER).expect(200);
    tick(60_000);
    await request(app).post('/flagger/rollout').send(FLAGGER).expect(200);
    tick(60_000);
    await request(app).post('/flagger/confirm-promotion').send(FLAGGER).expect(200);
    expect(looks.calls.map((c) => c.window)).toEqual([
      { start: NOW, end: NOW + 60_000 },
      { start: NOW, end: NOW + 120_000 },
      { start: NOW, end: NOW + 180_000 },
    ]);
    expect(judge.calls.map((c) => c.state?.looks)).toEqual([undefined, 1, 2]);
    // The weight came from the VirtualService; the metadata can name versions and the weight instead.
    expect(judge.calls[0].look.canaryWeight).toBe(10);

    await request(app)
      .post('/flagger/rollout')
      .send({
        ...FLAGGER,
        checksum: 'new',
        metadata: { stableVersion: 'v2', canaryVersion: 'v3', weight: '50', since: '10' },
      })
      .expect(200);
    expect(looks.calls[3].target).toEqual({
      namespace: 'rs',
      component: 'app',
      source: 'service',
      stableVersion: 'v2',
      canaryVersion: 'v3',
    });
    expect(judge.calls[3].state).toBeUndefined(); // a new checksum is a new analysis
    expect(judge.calls[3].look.canaryWeight).toBe(50);
  });

  test('Prometheus down: HOLD with the message; Flagger may not promote, and no failed check is counted', async () => {
    const down = scriptedLooks([
      new Error('Prometheus at http://prom:9090/api/v1/query did not answer within 10000 ms'),
    ]);
    const { app, judge, metrics } = setup(['PASS'], { looks: down.source });
    const gate = await request(app)
      .post('/flagger/confirm-promotion')
      .send({ ...FLAGGER, metadata: { since: '60' } })
      .expect(412);
    expect(gate.body).toEqual({
      decision: 'HOLD',
      proceed: false,
      summary:
        'no look: Prometheus at http://prom:9090/api/v1/query did not answer within 10000 ms; holding (never passing on missing data)',
      stable: 'v1',
      canary: 'v2',
      window: { start: '2024-05-01T09:00:00.000Z', end: '2024-05-01T10:00:00.000Z' },
      guardrails: {},
      srm: null,
    });
    await request(app)
      .post('/flagger/rollout')
      .send({ ...FLAGGER, metadata: { since: '60' } })
      .expect(200);
    const argo = await request(app).get('/argo/judge?stable=v1&canary=v2&weight=10&since=60').expect(200);
    expect(argo.body).toMatchObject({ decision: 'HOLD', pass: false });
    expect(judge.calls).toHaveLength(0);
    expect((await metrics.text()).split('\n')).toContain('canary_decision{decision="HOLD"} 1');
  });

  test('the VirtualService unreadable and no weight given: HOLD', async () => {
    const { app } = setup(['PASS'], {
      readRoutes: async () => {
        throw new Error('forbidden to get virtualservices');
      },
    });
    const response = await request(app).get('/argo/judge?stable=v1&canary=v2&since=5').expect(200);
    expect(response.body).toMatchObject({
      decision: 'HOLD',
      pass: false,
      summary:
        'cannot read the VirtualService: forbidden to get virtualservices; holding (never passing on missing data)',
    });
  });

  test('Argo Rollouts web metric: JSON for successCondition result.pass == true', async () => {
    const { app, looks } = setup(['PASS', 'FAIL']);
    const pass = await request(app)
      .get('/argo/judge?stable=v1&canary=v2&weight=25&since=2024-05-01T09:00:00Z')
      .expect(200);
    expect(pass.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(pass.body).toEqual({
      decision: 'PASS',
      pass: true,
      summary: 'summary PASS',
      stable: 'v1',
      canary: 'v2',
      window: { start: '2024-05-01T09:00:00.000Z', end: '2024-05-01T10:00:00.000Z' },
      guardrails: GUARDRAILS,
      srm: { checked: true, pValue: 0.5716, mismatch: false },
    });
    const fail = await request(app)
      .get('/argo/judge?stable=v1&canary=v2&weight=25&since=2024-05-01T09:00:00Z')
      .expect(200);
    expect(fail.body).toMatchObject({ decision: 'FAIL', pass: false });
    expect(looks.calls.map((c) => c.window.start)).toEqual([NOW - 3_600_000, NOW - 3_600_000]);
  });

  test('versions default to the configuration, then to the VirtualService', async () => {
    const { app, looks } = setup(['PASS'], { versions: { stableVersion: 'v7', canaryVersion: 'v8' } });
    await request(app).get('/argo/judge?since=15').expect(200);
    expect([looks.calls[0].target.stableVersion, looks.calls[0].target.canaryVersion]).toEqual(['v7', 'v8']);
  });

  test.each([
    ['/argo/judge?stable=v1&canary=v2&weight=150', 'weight: must be a number of percent, 0–100'],
    ['/argo/judge?stable=v1&canary=v2&weight=', 'weight: must be a number of percent, 0–100'],
    [
      '/argo/judge?stable=v1&canary=v2&since=tomorrow',
      'since: "tomorrow" is neither a number of minutes nor an ISO 8601 time such as 2024-05-01T09:00:00Z',
    ],
    [
      '/argo/judge?stable=v1%22%7D&canary=v2',
      'stable: must start with a letter and hold only letters, digits, ".", "_" or "-" (at most 63 characters)',
    ],
    ['/argo/judge?stable=v1&canary=v1', 'canary: must differ from stable'],
    ['/argo/judge?stable=v1&canary=v2&canary=v3', 'canary: give it once'],
    ['/argo/judge?stable=v1&canary=v2&service=app', 'service: unknown parameter'],
  ])('GET %s → 400 %s', async (path, detail) => {
    const { app, looks } = setup(['PASS']);
    await request(app).get(path).expect(400, { error: 'invalid_request', detail });
    expect(looks.calls).toHaveLength(0);
  });

  test.each([
    [{ ...FLAGGER, name: '' }, 'name: must not be empty'],
    [{ namespace: 'rs', phase: 'Progressing' }, 'name: is required'],
    [
      { ...FLAGGER, metadata: { weight: 10 } },
      'metadata.weight: Invalid input: expected string, received number',
    ],
    [{ ...FLAGGER, metadata: { weight: 'ten' } }, 'metadata.weight: must be a number of percent, 0–100'],
    [
      { ...FLAGGER, metadata: { canaryVersion: 'v2 or 1' } },
      'metadata.canaryVersion: must start with a letter and hold only letters, digits, ".", "_" or "-" (at most 63 characters)',
    ],
    [[1, 2], 'the body must be a JSON object (Content-Type: application/json)'],
  ])('POST %j → 400 %s', async (body, detail) => {
    const { app } = setup(['PASS']);
    await request(app).post('/flagger/rollout').send(body).expect(400, { error: 'invalid_request', detail });
  });

  test('not JSON, no body, unknown path, wrong method', async () => {
    const { app } = setup(['PASS']);
    const broken = await request(app)
      .post('/flagger/rollout')
      .set('content-type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(broken.body.error).toBe('invalid_json');
    await request(app).post('/flagger/rollout').expect(400, {
      error: 'invalid_request',
      detail: 'the body must be a JSON object (Content-Type: application/json)',
    });
    await request(app)
      .get('/flagger/nope')
      .expect(404, { error: 'not_found', detail: 'no route GET /flagger/nope' });
    const wrong = await request(app).get('/flagger/rollout').expect(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(wrong.body).toEqual({
      error: 'method_not_allowed',
      detail: 'GET is not allowed on /flagger/rollout; use POST',
    });
  });

  test('a weight raised during one analysis is weighed by the visitors counted at each weight (no false HOLD)', async () => {
    // 100 visitors at 10 % (10 on the canary), then 100 more at 50 % (50 on the canary): 60 of 200.
    const looks = scriptedLooks([lookWith(90, 10), lookWith(140, 60)]);
    const { app, judge, tick } = setup(['INSUFFICIENT'], { looks: looks.source });
    const gate = (weight: string) =>
      request(app)
        .post('/flagger/confirm-traffic-increase')
        .send({ ...FLAGGER, metadata: { weight } });
    await gate('10'); // starts the analysis
    tick(60_000);
    await gate('10');
    tick(60_000);
    await gate('50');
    expect(judge.calls.map((c) => c.look.canaryWeight)).toEqual([10, 30]);
  });
});
