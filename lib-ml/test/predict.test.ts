import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import type { Predictor } from '../src/bundle/bundle.js';
import { createRequire } from 'node:module';
import { buildClassifier, trainClassifier } from '../src/model/classifier.js';
import { SparseScorer } from '../src/model/sparse-scorer.js';
import { predict, scoreTexts, scoreTextsWithTfjs, THRESHOLD, toPrediction } from '../src/predict.js';
import { TfidfVectorizer } from '../src/vectorizer/tfidf.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

let predictor: Predictor;

beforeAll(async () => {
  await initBackend('wasm');
  // Vocabulary ["bad", "good"], equal idf; a logistic regression with hand-set weights.
  const vectorizer = new TfidfVectorizer({
    word: { ngramRange: [1, 1], maxFeatures: 10, minDf: 1 },
    char: null,
    sublinearTf: false,
    lexicons: [],
  }).fit(['good', 'bad']);
  const model = buildClassifier(vectorizer.nFeatures, {
    type: 'logistic_regression',
    hiddenUnits: 1,
    dropout: 0,
    l2: 0,
    seed: 1,
  });
  const kernel = tf.tensor2d([[-2], [3]]);
  const bias = tf.tensor1d([0.5]);
  model.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  predictor = { model, vectorizer };
});

afterAll(() => {
  predictor?.model.dispose();
});

describe('toPrediction', () => {
  it('labels scores at or above the 0.5 threshold positive', () => {
    expect(THRESHOLD).toBe(0.5);
    expect(toPrediction(0.5)).toEqual({ label: 1, sentiment: 'positive', score: 0.5 });
    expect(toPrediction(0.4999)).toEqual({ label: 0, sentiment: 'negative', score: 0.4999 });
    expect(toPrediction(1)).toEqual({ label: 1, sentiment: 'positive', score: 1 });
    expect(toPrediction(0)).toEqual({ label: 0, sentiment: 'negative', score: 0 });
    expect(toPrediction(0.5000001).label).toBe(1);
  });
});

describe('predict', () => {
  it('returns [] for no texts', () => {
    expect(predict(predictor, [])).toEqual([]);
    const empty = scoreTexts(predictor, []);
    expect(empty).toBeInstanceOf(Float32Array);
    expect(empty.length).toBe(0);
  });

  it('scores texts with the vectorizer and model (exact logistic values)', () => {
    expect(predictor.vectorizer.featureNames()).toEqual(['w:bad', 'w:good']);
    const scores = scoreTexts(predictor, ['good', 'bad', 'xyz', 'good bad']);
    expect(scores).toHaveLength(4);
    expect(scores[0]).toBeCloseTo(sigmoid(3.5), 6);
    expect(scores[1]).toBeCloseTo(sigmoid(-1.5), 6);
    expect(scores[2]).toBeCloseTo(sigmoid(0.5), 6);
    expect(scores[3]).toBeCloseTo(sigmoid(0.5 + Math.SQRT1_2), 6);
    expect(scores[0]).toBeCloseTo(0.970688, 6);
  });

  it('returns one {label, sentiment, score} per text, in order', () => {
    const texts = ['good', 'bad', 'xyz', 'Bad, bad, bad!', 'not good'];
    const predictions = predict(predictor, texts);
    expect(predictions).toHaveLength(texts.length);
    for (const p of predictions) {
      expect(Object.keys(p).sort()).toEqual(['label', 'score', 'sentiment']);
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      expect(p.label).toBe(p.score >= 0.5 ? 1 : 0);
      expect(p.sentiment).toBe(p.label === 1 ? 'positive' : 'negative');
    }
    expect(predictions.map((p) => p.label)).toEqual([1, 0, 1, 0, 1]);
    expect(predictions.map((p) => p.sentiment)).toEqual([
      'positive',
      'negative',
      'positive',
      'negative',
      'positive',
    ]);
    expect(predictions[1].score).toBeCloseTo(sigmoid(-1.5), 6);
    // "not good" has the unknown tokens "not" and "NOT_good": only the bias remains.
    expect(predictions[4].score).toBeCloseTo(sigmoid(0.5), 6);
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    predict(predictor, ['good', 'bad']);
    scoreTexts(predictor, ['xyz']);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sparse scoring', () => {
  it('matches the tfjs dense path for logistic regression and the MLP', async () => {
    const rows: Array<{ text: string; class: number }> = createRequire(import.meta.url)(
      'sentiment/test/fixtures/yelp.json',
    ).slice(0, 150);
    const vectorizer = new TfidfVectorizer({
      word: { ngramRange: [1, 2], maxFeatures: 2000, minDf: 1 },
      char: { ngramRange: [2, 4], maxFeatures: 2000, minDf: 2 },
      sublinearTf: true,
      lexicons: ['afinn', 'vader'],
    }).fit(rows.map((r) => r.text));
    const x = vectorizer.transformMatrix(rows.map((r) => r.text));
    const texts = [
      'Loved the food!',
      'not good at all, never again',
      '',
      '🍕🍕🍕',
      'The service was slow but the soup was great.',
    ];
    for (const type of ['logistic_regression', 'mlp'] as const) {
      const model = buildClassifier(
        x.columns,
        { type, hiddenUnits: 8, dropout: 0.2, l2: 1e-4, seed: 3 },
        0.05,
      );
      await trainClassifier(
        model,
        x,
        rows.map((r) => r.class),
        {
          learningRate: 0.05,
          epochs: 3,
          batchSize: 32,
          validationSplit: 0,
          patience: 1,
          seed: 3,
        },
      );
      const predictor: Predictor = { model, vectorizer };
      expect(SparseScorer.from(model)).not.toBeNull();
      const sparse = scoreTexts(predictor, texts);
      const dense = scoreTextsWithTfjs(predictor, texts);
      expect(sparse).toHaveLength(texts.length);
      sparse.forEach((s, i) => expect(s).toBeCloseTo(dense[i], 5));
      model.dispose();
    }
  });

  it('falls back to tfjs for layers it does not know', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 2 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    expect(SparseScorer.from(model)).toBeNull();
    model.dispose();
  });
});
