/** The app's Prometheus metrics change by exactly what each request should add. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createMetrics } from '../src/metrics.js';
import { makeApp, metricValue, TEST_APP_VERSION, type TestApp } from './support/app.js';
import {
  FAKE_MODEL_VERSION,
  startFakeModelService,
  type FakeModelService,
} from './support/fake-model-service.js';

let fake: FakeModelService;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeModelService();
  t = await makeApp(fake.url);
});
afterAll(() => fake.close());

/** Reads the given samples now; `delta()` then says how much each changed. */
async function snapshot(samples: Record<string, [string, Record<string, string>?]>) {
  const read = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(samples).map(
          async ([key, [name, labels]]) => [key, await metricValue(t.metrics, name, labels)] as const,
        ),
      ),
    );
  const before = await read();
  return {
    delta: async () => {
      const after = await read();
      return Object.fromEntries(Object.keys(samples).map((k) => [k, after[k] - before[k]]));
    },
  };
}

describe('metrics', () => {
  it('a positive review adds exactly one submission, its length, one prediction and one ok call', async () => {
    const review = 'A good place for a quick lunch.';
    const ok = { endpoint: '/predict', outcome: 'ok' };
    const s = await snapshot({
      submitted: ['reviews_submitted_total'],
      lengthCount: ['review_length_chars_count'],
      lengthSum: ['review_length_chars_sum'],
      positive: ['predictions_total', { sentiment: 'positive', model_version: FAKE_MODEL_VERSION }],
      negative: ['predictions_total', { sentiment: 'negative', model_version: FAKE_MODEL_VERSION }],
      predictOk: ['model_service_request_duration_seconds_count', ok],
      predictFailed: [
        'model_service_request_duration_seconds_count',
        { endpoint: '/predict', outcome: 'error' },
      ],
      versionCalls: ['model_service_request_duration_seconds_count', { endpoint: '/version' }],
      feedback: ['feedback_total'],
      requests: ['http_requests_total', { route: '/predict', method: 'POST', status: '200' }],
      durations: [
        'http_request_duration_seconds_count',
        { route: '/predict', method: 'POST', status: '200' },
      ],
    });
    await request(t.app).post('/predict').type('form').send({ review }).expect(200);
    expect(await s.delta()).toEqual({
      submitted: 1,
      lengthCount: 1,
      lengthSum: review.length,
      positive: 1,
      negative: 0,
      predictOk: 1,
      predictFailed: 0,
      versionCalls: 0, // the result page shows the prediction's model version
      feedback: 0,
      requests: 1,
      durations: 1,
    });
  });

  it('the review length lands in the right histogram bucket', async () => {
    const le25 = ['review_length_chars_bucket', { le: '25' }] as [string, Record<string, string>];
    const le10 = ['review_length_chars_bucket', { le: '10' }] as [string, Record<string, string>];
    const s = await snapshot({ le10, le25 });
    await request(t.app).post('/predict').type('form').send({ review: 'bad food, bad!' }).expect(200);
    expect(await s.delta()).toEqual({ le10: 0, le25: 1 });
  });

  it('a negative review counts a negative prediction', async () => {
    const s = await snapshot({
      positive: ['predictions_total', { sentiment: 'positive' }],
      negative: ['predictions_total', { sentiment: 'negative', model_version: FAKE_MODEL_VERSION }],
    });
    await request(t.app).post('/predict').type('form').send({ review: 'awful' }).expect(200);
    expect(await s.delta()).toEqual({ positive: 0, negative: 1 });
  });

  it('one feedback adds exactly one feedback_total{outcome} and one ok /feedback call', async () => {
    const s = await snapshot({
      correct: ['feedback_total', { outcome: 'correct' }],
      wrong: ['feedback_total', { outcome: 'wrong' }],
      calls: ['model_service_request_duration_seconds_count', { endpoint: '/feedback', outcome: 'ok' }],
      submitted: ['reviews_submitted_total'],
    });
    await request(t.app)
      .post('/feedback')
      .type('form')
      .send({ review: 'good', predicted: '1', model_version: FAKE_MODEL_VERSION, verdict: 'correct' })
      .expect(200);
    expect(await s.delta()).toEqual({ correct: 1, wrong: 0, calls: 1, submitted: 0 });
  });

  it('a People view and a click add exactly one each', async () => {
    const s = await snapshot({
      views: ['people_page_views_total', { variant: 'control' }],
      clicks: ['profile_clicks_total', { member: 'platform-engineer', variant: 'control' }],
      allClicks: ['profile_clicks_total'],
    });
    await request(t.app).get('/people').expect(200);
    expect(await s.delta()).toEqual({ views: 1, clicks: 0, allClicks: 0 });
    await request(t.app).get('/click/platform-engineer').expect(302);
    expect(await s.delta()).toEqual({ views: 1, clicks: 1, allClicks: 1 });
  });

  it('unknown paths share the route label "unmatched"', async () => {
    const s = await snapshot({
      unmatched: ['http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }],
    });
    await request(t.app).get('/wp-admin/setup.php').expect(404);
    await request(t.app).get('/.env').expect(404);
    expect(await s.delta()).toEqual({ unmatched: 2 });
    const exposition = (await request(t.app).get('/metrics').expect(200)).text;
    expect(exposition).not.toContain('wp-admin');
  });

  it('GET /metrics is Prometheus text and every sample carries app_version="9.9.9"', async () => {
    await request(t.app).get('/').expect(200);
    const res = await request(t.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = res.text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    for (const line of samples) expect(line).toContain(`app_version="${TEST_APP_VERSION}"`);
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds',
      'reviews_submitted_total',
      'review_length_chars',
      'predictions_total',
      'feedback_total',
      'people_page_views_total',
      'visitors_total',
      'profile_clicks_total',
      'model_service_request_duration_seconds',
    ]) {
      expect(res.text).toContain(`# TYPE ${name} `);
    }
  });

  describe('visitors_total (page views without the version cookie)', () => {
    let sticky: TestApp;
    beforeAll(async () => {
      sticky = await makeApp(fake.url, { variant: 'treatment', stickyCookieName: 'rs-version' });
    });
    const visitors = (app: TestApp) => metricValue(app.metrics, 'visitors_total', { variant: 'treatment' });
    const page = (path: string, cookie?: string) => {
      const req = request(sticky.app).get(path);
      return cookie === undefined ? req : req.set('cookie', cookie);
    };

    it('counts each GET of / and /people without the cookie, and only those', async () => {
      expect(await visitors(sticky)).toBe(0);
      // 5 new visitors: no Cookie header, or cookies none of which is named exactly rs-version.
      await page('/').expect(200);
      await page('/people').expect(200);
      await page('/', 'xrs-version=v2').expect(200);
      await page('/people', 'theme=dark; rs-version2=v2; RS-VERSION=v2; rs-version').expect(200);
      await page('/', '').expect(200);
      expect(await visitors(sticky)).toBe(5);
      // Returning browsers: the cookie alone, among others, with odd spacing, or with an empty value.
      await page('/', 'rs-version=v2').expect(200);
      await page('/people', 'theme=dark; rs-version=v2; lang=en').expect(200);
      await page('/', 'a=1;rs-version=v1').expect(200);
      await page('/people', '  rs-version =v2 ').expect(200);
      await page('/', 'rs-version=').expect(200);
      expect(await visitors(sticky)).toBe(5);
    });

    it('does not count anything but a successful GET page view, even without the cookie', async () => {
      const before = await visitors(sticky);
      await request(sticky.app).head('/').expect(200);
      await request(sticky.app).get('/static/styles.css').expect(200);
      await request(sticky.app).get('/favicon.ico').expect(200);
      await request(sticky.app).get('/metrics').expect(200);
      await request(sticky.app).get('/healthz').expect(200);
      await request(sticky.app).get('/readyz').expect(200);
      await request(sticky.app).get('/click/platform-engineer').expect(302);
      await request(sticky.app).get('/click/nobody').expect(404);
      await request(sticky.app).get('/predict').expect(303);
      await request(sticky.app).get('/no-such-page').expect(404);
      await request(sticky.app).post('/predict').type('form').send({ review: 'good food' }).expect(200);
      await request(sticky.app).post('/predict').type('form').send({ review: '' }).expect(400);
      await request(sticky.app)
        .post('/feedback')
        .type('form')
        .send({ review: 'good', predicted: '1', model_version: FAKE_MODEL_VERSION, verdict: 'correct' })
        .expect(200);
      expect((await visitors(sticky)) - before).toBe(0);
    });

    it('with STICKY_COOKIE_VALUE, also counts a cookie naming another version (the mesh moved the browser here)', async () => {
      const v2 = await makeApp(fake.url, {
        variant: 'treatment',
        stickyCookieName: 'rs-version',
        stickyCookieValue: 'v2',
      });
      const get = (cookie?: string) => {
        const req = request(v2.app).get('/');
        return cookie === undefined ? req : req.set('cookie', cookie);
      };
      await get().expect(200); // new browser: counted
      await get('rs-version=v1').expect(200); // v1 rolled back, or an earlier experiment's version: counted
      await get('theme=dark; rs-version=v0').expect(200); // counted
      await get('rs-version=v2').expect(200); // returning v2 browser: not counted
      await get('lang=en; rs-version=v2').expect(200); // not counted
      expect(await visitors(v2)).toBe(3);
    });

    it('is exposed per variant, and stays at 0 when STICKY_COOKIE_NAME is unset', async () => {
      const fresh = await makeApp(fake.url, { variant: 'treatment', stickyCookieName: 'rs-version' });
      await request(fresh.app).get('/').expect(200);
      await request(fresh.app).get('/people').set('cookie', 'rs-version=v2').expect(200);
      await request(fresh.app).get('/people').expect(200);
      const exposition = (await request(fresh.app).get('/metrics').expect(200)).text;
      expect(exposition).toContain(
        '# HELP visitors_total New visitors: page views (GET, HTML pages) that arrived without the version cookie STICKY_COOKIE_NAME, i.e. browsers the mesh assigned a version just now; 0 when STICKY_COOKIE_NAME is unset',
      );
      expect(exposition).toContain(`visitors_total{variant="treatment",app_version="${TEST_APP_VERSION}"} 2`);
      const unset = await makeApp(fake.url, { variant: 'treatment' });
      await request(unset.app).get('/').expect(200);
      await request(unset.app).get('/people').expect(200);
      await request(unset.app).get('/').set('cookie', 'xrs-version=v1').expect(200);
      expect(await visitors(unset)).toBe(0);
      expect(await metricValue(unset.metrics, 'people_page_views_total')).toBe(1);
      expect((await request(unset.app).get('/metrics').expect(200)).text).toContain(
        `visitors_total{variant="treatment",app_version="${TEST_APP_VERSION}"} 0`,
      );
    });
  });

  it('the default process metrics carry app_version too', async () => {
    const metrics = createMetrics('7.7.7');
    const text = await metrics.registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total{app_version="7.7.7"}');
    const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
    for (const line of samples) expect(line).toContain('app_version="7.7.7"');
  });
});
