/**
 * Drift metrics of model-service: the model's reference bins from its manifest as gauges next to the live
 * histograms (none, with a log line saying why, for a bundle without a usable reference), and the live
 * out-of-vocabulary histogram `model_input_oov_ratio`, one observation per text that has a word.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  loadBundle,
  oovRate,
  OOV_RATE_BUCKETS,
  PREDICTION_SCORE_BUCKETS,
  type DriftReference,
} from '@restaurant-sentiment/lib-ml';
import { pino } from 'pino';
import request from 'supertest';
import { FeedbackWriter } from '../src/feedback/writer.js';
import { createApp, type ServiceState } from '../src/http/app.js';
import { createMetrics, type ServiceMetrics } from '../src/metrics.js';
import { activateModel, SERVICE_VERSION } from '../src/service.js';
import { writeTestRelease, yelpTexts } from './support/bundle.js';
import { testConfig } from './support/config.js';

/** Values of a metric's series by their labels (`le` included) from prom-client's registry. */
async function series(metrics: ServiceMetrics, name: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const metricName = (value as { metricName?: string }).metricName ?? metric.name;
      if (metricName !== name) continue;
      const labels = Object.entries(value.labels)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      found.set(labels, value.value);
    }
  }
  return found;
}

/** A model-service app serving the release in `dir` as `version`, its metrics, and its log lines. */
async function serve(dir: string, version: string, feedbackDir: string) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const bundle = await loadBundle(dir);
  const state: ServiceState = { model: null, predictor: null };
  const metrics = createMetrics(false);
  activateModel(state, metrics, { bundle, version, dir, origin: 'local', loadMs: 0 }, 64, log);
  const feedback = new FeedbackWriter(feedbackDir, 1024 * 1024);
  const app = createApp({
    state,
    metrics,
    feedback,
    log: pino({ level: 'silent' }),
    serviceVersion: SERVICE_VERSION,
  });
  return { app, metrics, lines, bundle, feedback };
}

let root: string;
let registryDir: string;
const feedbacks: FeedbackWriter[] = [];

beforeAll(async () => {
  const { config, root: r } = await testConfig();
  root = r;
  registryDir = config.registryDir;
});
afterAll(async () => {
  for (const f of feedbacks) await f.close();
});

describe('with a reference in the manifest', () => {
  let served: Awaited<ReturnType<typeof serve>>;
  let reference: DriftReference;

  beforeAll(async () => {
    const dir = await writeTestRelease(registryDir, '1.2.0');
    served = await serve(dir, '1.2.0', path.join(root, 'feedback-a'));
    feedbacks.push(served.feedback);
    reference = served.bundle.manifest.reference as DriftReference;
  });

  it('exports each reference bin’s share under the live histogram’s `le`, per model version', async () => {
    const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    const expected = (buckets: readonly number[], counts: number[]) =>
      new Map(buckets.map((b, i) => [`model_version=1.2.0,le=${b}`, counts[i] / total(counts)]));
    expect(await series(served.metrics, 'model_reference_prediction_score_share')).toEqual(
      expected(PREDICTION_SCORE_BUCKETS, reference.predictionScore.counts),
    );
    expect(await series(served.metrics, 'model_reference_input_oov_ratio_share')).toEqual(
      expected(OOV_RATE_BUCKETS, reference.oovRate.counts),
    );
    // The test release's reference: the 300 held-out Yelp reviews, each scored and each with a word.
    expect([reference.rows, reference.predictionScore.excluded, reference.oovRate.excluded]).toEqual([
      300, 0, 0,
    ]);
    expect(
      served.lines.map(({ level, msg, modelVersion, predictionScoreBins, oovRatioBins }) => ({
        level,
        msg,
        modelVersion,
        predictionScoreBins,
        oovRatioBins,
      })),
    ).toEqual([
      {
        level: 30,
        msg: 'drift reference exported',
        modelVersion: '1.2.0',
        predictionScoreBins: 10,
        oovRatioBins: 9,
      },
    ]);
    const text = (await request(served.app).get('/metrics').expect(200)).text;
    expect(text).toContain(
      `model_reference_prediction_score_share{model_version="1.2.0",le="0.1"} ${reference.predictionScore.counts[0] / 300}\n`,
    );
    expect(text).toContain('# TYPE model_input_oov_ratio histogram\n');
  });

  it('observes the OOV ratio of every text with a word: all known → le 0, none known → le 1, emoji → nothing', async () => {
    const known = yelpTexts([0, 1])[0]; // a training review: every word is in the vocabulary
    expect(known).toBe('Wow... Loved this place.');
    expect(oovRate(served.bundle.vectorizer, known)).toBe(0);
    const before = await series(served.metrics, 'model_input_oov_ratio_bucket');
    const countBefore =
      (await series(served.metrics, 'model_input_oov_ratio_count')).get('model_version=1.2.0') ?? 0;
    await request(served.app)
      .post('/predict/batch')
      .send({ texts: [known, 'Zorblax quux blorf', '🙂🙂'] })
      .expect(200);
    await request(served.app).post('/predict').send({ text: known }).expect(200);
    const after = await series(served.metrics, 'model_input_oov_ratio_bucket');
    const added = OOV_RATE_BUCKETS.map((b) => {
      const key = `le=${b},model_version=1.2.0`;
      return (after.get(key) ?? 0) - (before.get(key) ?? 0);
    });
    // Cumulative: the two known texts are in every bucket from le 0, the unknown one only in le 1.
    expect(added).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 3]);
    expect((await series(served.metrics, 'model_input_oov_ratio_count')).get('model_version=1.2.0')).toBe(
      countBefore + 3,
    );
  });
});

describe('without a usable reference', () => {
  /** Writes release `version` whose manifest's reference is replaced by `reference` (deleted if undefined). */
  async function release(version: string, reference: unknown): Promise<string> {
    const dir = await writeTestRelease(registryDir, version);
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    if (reference === undefined) delete manifest.reference;
    else manifest.reference = reference;
    await writeFile(file, JSON.stringify(manifest, null, 2));
    return dir;
  }

  it('serves a bundle published before drift monitoring without reference gauges, and says so', async () => {
    const served = await serve(await release('0.9.0', undefined), '0.9.0', path.join(root, 'feedback-b'));
    feedbacks.push(served.feedback);
    expect(await series(served.metrics, 'model_reference_prediction_score_share')).toEqual(new Map());
    expect(await series(served.metrics, 'model_reference_input_oov_ratio_share')).toEqual(new Map());
    expect(served.lines.map(({ level, msg, modelVersion }) => ({ level, msg, modelVersion }))).toEqual([
      { level: 30, msg: 'the model has no drift reference; drift is not measured', modelVersion: '0.9.0' },
    ]);
    await request(served.app).post('/predict').send({ text: 'Great food' }).expect(200);
    expect((await series(served.metrics, 'model_input_oov_ratio_count')).get('model_version=0.9.0')).toBe(1);
  });

  it('serves a bundle with a malformed reference without reference gauges, warning with the reason', async () => {
    const dir = await release('0.9.1', {
      dataset: 'test',
      rows: 3,
      predictionScore: { buckets: [1], counts: [3] },
    });
    const served = await serve(dir, '0.9.1', path.join(root, 'feedback-c'));
    feedbacks.push(served.feedback);
    expect(await series(served.metrics, 'model_reference_prediction_score_share')).toEqual(new Map());
    expect(served.lines.map(({ level, msg, reason }) => ({ level, msg, reason }))).toEqual([
      {
        level: 40,
        msg: 'the model has an unusable drift reference; drift is not measured',
        reason: 'reference.predictionScore.excluded is not an integer ≥ 0',
      },
    ]);
    const res = await request(served.app).post('/predict').send({ text: 'Great food' }).expect(200);
    expect(res.body.modelVersion).toBe('0.9.1');
  });
});
