/**
 * Unreadable input (no feature the model knows) is answered "unknown" and counted as such; the OpenAPI
 * document describes it, and its examples are valid and real.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadBundle } from '@restaurant-sentiment/lib-ml';
import { pino } from 'pino';
import request from 'supertest';
import { FeedbackWriter } from '../src/feedback/writer.js';
import { createApp } from '../src/http/app.js';
import { EXAMPLES } from '../src/http/openapi.js';
import {
  batchRequest,
  batchResponse,
  errorResponse,
  feedbackRequest,
  feedbackResponse,
  predictRequest,
  prediction,
  versionResponse,
} from '../src/http/schemas.js';
import { createMetrics, type ServiceMetrics } from '../src/metrics.js';
import { activateModel } from '../src/service.js';
import { writeTestRelease } from './support/bundle.js';
import { testConfig } from './support/config.js';

const require = createRequire(import.meta.url);
let app: ReturnType<typeof createApp>;
let metrics: ServiceMetrics;

beforeAll(async () => {
  const { config } = await testConfig();
  const dir = await writeTestRelease(config.registryDir, '1.2.0');
  const bundle = await loadBundle(dir);
  const state = { model: null, predictor: null };
  metrics = createMetrics(false);
  activateModel(state, metrics, { bundle, version: '1.2.0', dir, origin: 'local', loadMs: 0 }, 64);
  app = createApp({
    state,
    metrics,
    feedback: new FeedbackWriter(config.feedbackDir, 1024 * 1024, { writerId: 'test' }),
    log: pino({ level: 'silent' }),
    serviceVersion: 'test',
  });
});

const UNKNOWN = { label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '1.2.0' };

/** Value of a counter or histogram series in the service's registry (0 when absent). */
async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const series = (v as { metricName?: string }).metricName ?? metric.name;
      if (series === name && Object.entries(labels).every(([k, x]) => v.labels[k] === x)) return v.value;
    }
  }
  return 0;
}

describe('POST /predict on text the model cannot read', () => {
  it.each([
    ['emoji only', '🍕🍕🍕'],
    ['emoji only, no food', '😍👍🔥'],
    ['Cyrillic', 'Очень вкусно, спасибо!'],
    ['Chinese', '非常好吃'],
    ['Japanese', '美味しいラーメン'],
    ['zero-width characters', '\u200b\u200c\u200d'],
    ['punctuation only', '!!! ???'],
  ])('answers "unknown" with no label and no score for %s', async (_what, text) => {
    const res = await request(app).post('/predict').send({ text }).expect(200);
    expect(res.body).toEqual(UNKNOWN);
  });

  it('still answers a normal review with a label, score and its feature count', async () => {
    const res = await request(app)
      .post('/predict')
      .send({ text: 'The food was amazing and the staff were so friendly!' })
      .expect(200);
    expect(res.body).toEqual({
      label: 1,
      sentiment: 'positive',
      score: expect.closeTo(0.996354, 5),
      knownFeatures: 120,
      modelVersion: '1.2.0',
    });
  });

  it('answers a batch in order, unknown where nothing is known, and counts "unknown" without a score', async () => {
    const unknownBefore = await metricValue('model_predictions_total', {
      sentiment: 'unknown',
      model_version: '1.2.0',
    });
    const scoresBefore = await metricValue('model_prediction_score_count', { model_version: '1.2.0' });
    const res = await request(app)
      .post('/predict/batch')
      .send({ texts: ['Terrible, the food was cold and awful.', '🍕', 'ok', '\u2060'] })
      .expect(200);
    expect(res.body).toEqual([
      {
        label: 0,
        sentiment: 'negative',
        score: expect.any(Number),
        knownFeatures: 82,
        modelVersion: '1.2.0',
      },
      UNKNOWN,
      {
        label: 1,
        sentiment: 'positive',
        score: expect.closeTo(0.753607, 5),
        knownFeatures: 6,
        modelVersion: '1.2.0',
      },
      UNKNOWN,
    ]);
    expect(res.body[0].score).toBeLessThan(0.5);
    expect(
      await metricValue('model_predictions_total', { sentiment: 'unknown', model_version: '1.2.0' }),
    ).toBe(unknownBefore + 2);
    // Only the two texts with a score reach the score histogram.
    expect(await metricValue('model_prediction_score_count', { model_version: '1.2.0' })).toBe(
      scoresBefore + 2,
    );
    const text = (await request(app).get('/metrics').expect(200)).text;
    expect(text).toMatch(/^model_predictions_total\{sentiment="unknown",model_version="1\.2\.0"\} \d+$/m);
  });
});

describe('the OpenAPI document', () => {
  it('describes the "unknown" answer', async () => {
    const doc = (await request(app).get('/openapi.json').expect(200)).body;
    const [known, unknown] = doc.components.schemas.Prediction.anyOf;
    expect(known.properties.sentiment).toEqual({ type: 'string', enum: ['positive', 'negative'] });
    expect(known.properties.knownFeatures).toMatchObject({ type: 'integer', minimum: 1 });
    expect(unknown.properties.sentiment).toEqual({ type: 'string', enum: ['unknown'] });
    expect(unknown.properties.label).toMatchObject({ nullable: true, enum: [null] });
    expect(unknown.properties.score).toMatchObject({ nullable: true, enum: [null] });
    expect(unknown.properties.knownFeatures).toMatchObject({ enum: [0] });
    expect(unknown.required).toEqual(['label', 'sentiment', 'score', 'knownFeatures', 'modelVersion']);
    expect(
      doc.paths['/predict'].post.responses['200'].content['application/json'].examples.unknown.value,
    ).toEqual({ label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '1.0.0' });
    expect(doc.paths['/feedback'].post.responses['503'].content['application/json'].examples).toEqual(
      EXAMPLES.feedbackUnavailable,
    );
  });

  it('has examples that its own schemas accept', () => {
    const valid = (schema: { safeParse: (v: unknown) => { success: boolean } }, examples: object) =>
      Object.values(examples).map((e: { value: unknown }) => schema.safeParse(e.value).success);
    expect(valid(predictRequest, EXAMPLES.predictRequest)).toEqual([true, true, true]);
    expect(valid(prediction, EXAMPLES.prediction)).toEqual([true, true, true]);
    expect(valid(batchRequest, EXAMPLES.batchRequest)).toEqual([true]);
    expect(valid(batchResponse, EXAMPLES.batchResponse)).toEqual([true]);
    expect(valid(feedbackRequest, EXAMPLES.feedbackRequest)).toEqual([true, true]);
    expect(valid(feedbackResponse, EXAMPLES.feedbackResponse)).toEqual([true]);
    expect(valid(versionResponse, EXAMPLES.version)).toEqual([true]);
    for (const e of [EXAMPLES.invalidRequest, EXAMPLES.notReady, EXAMPLES.feedbackUnavailable]) {
      expect(valid(errorResponse, e)).toEqual([true]);
    }
  });

  it('uses real reviews of the dataset, and the real "unknown" answers', async () => {
    const yelp = new Set(
      (require('sentiment/test/fixtures/yelp.json') as Array<{ text: string }>).map((r) => r.text),
    );
    const reviews = [
      EXAMPLES.predictRequest.positive.value.text,
      EXAMPLES.predictRequest.negative.value.text,
      ...EXAMPLES.batchRequest.mixed.value.texts.slice(0, 2),
      EXAMPLES.feedbackRequest.correction.value.text,
      EXAMPLES.feedbackRequest.agreement.value.text,
    ];
    expect(reviews.filter((t) => !yelp.has(t))).toEqual([]);
    // Whatever the model, text without known features gets exactly the documented answer.
    const answer = (
      await request(app).post('/predict').send(EXAMPLES.predictRequest.unknown.value).expect(200)
    ).body;
    expect({ ...answer, modelVersion: '1.0.0' }).toEqual(EXAMPLES.prediction.unknown.value);
    const batch = await request(app)
      .post('/predict/batch')
      .send(EXAMPLES.batchRequest.mixed.value)
      .expect(200);
    expect(batch.body.map((p: { sentiment: string }) => p.sentiment)).toEqual(
      EXAMPLES.batchResponse.mixed.value.map((p) => p.sentiment),
    );
  });
});
