/** Every endpoint of the HTTP API, and every bad input, through supertest. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LIB_ML_VERSION, loadBundle, predict } from '@restaurant-sentiment/lib-ml';
import { pino } from 'pino';
import request from 'supertest';
import { FeedbackWriter } from '../src/feedback/writer.js';
import { createApp, type ServiceState } from '../src/http/app.js';
import { createMetrics, type ServiceMetrics } from '../src/metrics.js';
import type { ServingModel } from '../src/model/load.js';
import { activateModel, SERVICE_VERSION } from '../src/service.js';
import { writeTestRelease } from './support/bundle.js';
import { testConfig } from './support/config.js';

let app: ReturnType<typeof createApp>;
let state: ServiceState;
let metrics: ServiceMetrics;
let feedbackDir: string;
let feedback: FeedbackWriter;
let model: ServingModel;

beforeAll(async () => {
  const { config } = await testConfig();
  const dir = await writeTestRelease(config.registryDir, '1.2.0');
  const bundle = await loadBundle(dir);
  model = { bundle, version: '1.2.0', dir, origin: 'local', loadMs: 0 };
  state = { model: null, predictor: null };
  metrics = createMetrics(false);
  activateModel(state, metrics, model, 64);
  feedbackDir = config.feedbackDir;
  feedback = new FeedbackWriter(feedbackDir, 1024 * 1024);
  app = createApp({
    state,
    metrics,
    feedback,
    log: pino({ level: 'silent' }),
    serviceVersion: SERVICE_VERSION,
  });
});
afterAll(() => feedback.close());

const metricValue = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
  const values = (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  const entry = values.find(
    (v) => v.name === name && Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return (entry?.value as number | undefined) ?? 0;
};

describe('predictions', () => {
  it('POST /predict returns the label, sentiment, score and model version', async () => {
    const text = 'The food was amazing and the staff were so friendly!';
    const res = await request(app).post('/predict').send({ text }).expect(200);
    const [expected] = predict(model.bundle, [text]);
    expect(res.body).toEqual({
      ...expected,
      score: expect.closeTo(expected.score ?? NaN, 6),
      modelVersion: '1.2.0',
    });
    expect(res.body.sentiment).toBe('positive');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('predicts a clearly negative review as negative, and handles Unicode and emoji', async () => {
    const negative = await request(app)
      .post('/predict')
      .send({ text: 'Terrible, the food was cold and awful.' });
    expect(negative.body).toMatchObject({ label: 0, sentiment: 'negative', modelVersion: '1.2.0' });
    const emoji = await request(app)
      .post('/predict')
      .send({ text: 'Délicieux! 🍕😍 «très bon» 美味しい' })
      .expect(200);
    expect(emoji.body.score).toBeGreaterThanOrEqual(0);
    expect(emoji.body.score).toBeLessThanOrEqual(1);
  });

  it('POST /predict/batch answers in order', async () => {
    const texts = ['Loved it', 'Hated it', 'The pasta was great', 'Never again, rude waiter'];
    const res = await request(app).post('/predict/batch').send({ texts }).expect(200);
    expect(res.body).toHaveLength(4);
    const expected = predict(model.bundle, texts);
    res.body.forEach((p: { label: number; modelVersion: string }, i: number) => {
      expect(p.label).toBe(expected[i].label);
      expect(p.modelVersion).toBe('1.2.0');
    });
  });

  it('counts predictions and scores in the metrics', async () => {
    const before = await metricValue('model_predictions_total', {
      sentiment: 'positive',
      model_version: '1.2.0',
    });
    const scoresBefore = await metricValue('model_prediction_score_count', { model_version: '1.2.0' });
    await request(app).post('/predict').send({ text: 'Wonderful dinner, great service' }).expect(200);
    expect(
      await metricValue('model_predictions_total', { sentiment: 'positive', model_version: '1.2.0' }),
    ).toBe(before + 1);
    expect(await metricValue('model_prediction_score_count', { model_version: '1.2.0' })).toBe(
      scoresBefore + 1,
    );
    const text = (await request(app).get('/metrics').expect(200)).text;
    expect(text).toContain(`model_info{model_version="1.2.0",lib_ml_version="${LIB_ML_VERSION}"} 1`);
    expect(text).toMatch(/http_requests_total\{route="\/predict",method="POST",status="200"\} \d+/);
    expect(text).toContain('model_inference_duration_seconds_bucket');
  });
});

describe('feedback', () => {
  it('POST /feedback appends one JSON line and answers 201', async () => {
    const before = await metricValue('feedback_total', { agrees: 'false' });
    await request(app)
      .post('/feedback')
      .send({ text: 'Great "tacos"\nand\tmore', label: 1, predictedLabel: 0, modelVersion: '1.2.0' })
      .expect(201, { status: 'recorded' });
    const lines = (await readFile(feedback.file, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1])).toEqual({
      text: 'Great "tacos"\nand\tmore',
      label: 1,
      predictedLabel: 0,
      modelVersion: '1.2.0',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await metricValue('feedback_total', { agrees: 'false' })).toBe(before + 1);
    await request(app).post('/feedback').send({ text: 'ok', label: 0 }).expect(201);
    expect(await metricValue('feedback_total', { agrees: 'unknown' })).toBe(1);
  });

  it.each([
    [{ text: 'x', label: 2 }, 'label: must be 0 or 1'],
    [{ text: 'x', label: '1' }, 'label: must be 0 or 1'],
    [{ label: 1 }, 'text: is required'],
    [{ text: 'x', label: 1, predictedLabel: 5 }, 'predictedLabel: must be 0 or 1'],
  ])('rejects %j', async (body, detail) => {
    const res = await request(app).post('/feedback').send(body).expect(400);
    expect(res.body).toEqual({ error: 'invalid_request', detail });
  });
});

describe('service endpoints', () => {
  it('GET /version, /healthz, /readyz', async () => {
    expect((await request(app).get('/version').expect(200)).body).toEqual({
      service: SERVICE_VERSION,
      model: '1.2.0',
      libMl: LIB_ML_VERSION,
      bundleLibMlRange: model.bundle.manifest.libMl.range,
    });
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    await request(app).get('/readyz').expect(200, { status: 'ready', modelVersion: '1.2.0' });
  });

  it('reports not ready, and refuses predictions with 503, until the model is loaded', async () => {
    const loading = createApp({
      state: { model: null, predictor: null },
      metrics: createMetrics(false),
      feedback,
      log: pino({ level: 'silent' }),
      serviceVersion: SERVICE_VERSION,
    });
    await request(loading).get('/readyz').expect(503);
    await request(loading).get('/healthz').expect(200);
    const res = await request(loading).post('/predict').send({ text: 'hi' }).expect(503);
    expect(res.body).toEqual({ error: 'not_ready', detail: 'the model is still loading; retry shortly' });
    expect((await request(loading).get('/version')).body.model).toBe('loading');
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = (await request(app).get('/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual([
      '/predict',
      '/predict/batch',
      '/feedback',
      '/version',
      '/healthz',
      '/readyz',
      '/metrics',
    ]);
    expect(doc.components.schemas.PredictRequest).toEqual({
      type: 'object',
      description: 'One review',
      properties: { text: { type: 'string', minLength: 1, maxLength: 5000, description: 'Review text' } },
      required: ['text'],
    });
    const ui = await request(app).get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
    expect(await metricValue('http_requests_total', { route: '/docs', status: '200' })).toBe(1);
  });
});

describe('bad input', () => {
  const longText = 'a'.repeat(5001);
  it.each([
    ['a missing text', { nope: 1 }, 'text: is required'],
    ['a null text', { text: null }, 'text: must be a string'],
    ['a number', { text: 42 }, 'text: must be a string'],
    ['an empty text', { text: '' }, 'text: must not be empty'],
    ['a blank text', { text: '   \n ' }, 'text: must not be blank'],
    ['a text over 5000 characters', { text: longText }, 'text: must be at most 5000 characters'],
    ['an array body', [1, 2], 'body: Invalid input: expected object, received array'],
  ])('POST /predict with %s → 400 naming the field', async (_what, body, detail) => {
    const res = await request(app)
      .post('/predict')
      .send(body as object)
      .expect(400);
    expect(res.body).toEqual({ error: 'invalid_request', detail });
  });

  it.each([
    ['over 100 texts', { texts: Array(101).fill('ok') }, 'texts: must hold at most 100 texts'],
    ['no texts', { texts: [] }, 'texts: must hold at least one text'],
    ['a string', { texts: 'ok' }, 'texts: must be an array of strings'],
    ['a bad element', { texts: ['ok', 7] }, 'texts.1: must be a string'],
  ])('POST /predict/batch with %s → 400', async (_what, body, detail) => {
    const res = await request(app).post('/predict/batch').send(body).expect(400);
    expect(res.body).toEqual({ error: 'invalid_request', detail });
  });

  it('validates bodies that are JSON but not objects, and an empty JSON body', async () => {
    for (const [body, detail] of [
      ['null', 'body: Invalid input: expected object, received null'],
      ['42', 'body: Invalid input: expected object, received number'],
      ['"hello"', 'body: Invalid input: expected object, received string'],
    ]) {
      const res = await request(app)
        .post('/predict')
        .set('content-type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body).toEqual({ error: 'invalid_request', detail });
    }
    const empty = await request(app).post('/predict').set('content-type', 'application/json').expect(400);
    expect(empty.body).toEqual({ error: 'invalid_request', detail: 'text: is required' });
  });

  it('counts the 5000-character limit in UTF-16 code units, like the app and the browser', async () => {
    await request(app)
      .post('/predict')
      .send({ text: '😀'.repeat(2500) })
      .expect(200);
    const res = await request(app)
      .post('/predict')
      .send({ text: '😀'.repeat(2501) })
      .expect(400);
    expect(res.body.detail).toBe('text: must be at most 5000 characters');
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const res = await request(app)
      .post('/predict')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ text: 'x'.repeat(70 * 1024) }))
      .expect(413);
    expect(res.body).toEqual({
      error: 'payload_too_large',
      detail: 'the body is over the limit of 65536 bytes',
    });
  });

  it('answers 400 for invalid JSON and 415 for another content type', async () => {
    const bad = await request(app)
      .post('/predict')
      .set('content-type', 'application/json')
      .send('{"text": ')
      .expect(400);
    expect(bad.body.error).toBe('invalid_json');
    expect(bad.body.detail).toMatch(/^the body is not valid JSON: /);
    const form = await request(app).post('/predict').type('form').send('text=hello').expect(415);
    expect(form.body).toEqual({
      error: 'unsupported_media_type',
      detail: 'Content-Type must be application/json (got application/x-www-form-urlencoded)',
    });
    await request(app).post('/predict').set('content-type', 'text/plain').send('hello').expect(415);
  });

  it('answers 404 with JSON for an unknown route and method', async () => {
    expect((await request(app).get('/nope').expect(404)).body).toEqual({
      error: 'not_found',
      detail: 'no route GET /nope',
    });
    const wrongMethod = await request(app).get('/predict').expect(405);
    expect(wrongMethod.headers.allow).toBe('OPTIONS, POST');
    expect(wrongMethod.body).toEqual({
      error: 'method_not_allowed',
      detail: 'GET is not allowed on /predict; use POST',
    });
    const readOnly = await request(app).post('/metrics').expect(405);
    expect(readOnly.headers.allow).toBe('GET, HEAD, OPTIONS');
    const unmatched = await metricValue('http_requests_total', { route: 'unmatched', status: '404' });
    expect(unmatched).toBeGreaterThanOrEqual(1);
  });

  it('still serves predictions after all of that', async () => {
    await request(app).post('/predict').send({ text: 'Still fine' }).expect(200);
  });
});
