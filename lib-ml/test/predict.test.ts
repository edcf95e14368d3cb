import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import type { Predictor } from '../src/bundle/bundle.js';
import { createRequire } from 'node:module';
import { buildClassifier, trainClassifier } from '../src/model/classifier.js';
import { SparseScorer } from '../src/model/sparse-scorer.js';
import {
  predict,
  scoreTexts,
  scoreTextsWithFeatures,
  scoreTextsWithTfjs,
  THRESHOLD,
  toPrediction,
  UNKNOWN_PREDICTION,
} from '../src/predict.js';
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
    expect(toPrediction(0.5, 3)).toEqual({ label: 1, sentiment: 'positive', score: 0.5, knownFeatures: 3 });
    expect(toPrediction(0.4999, 1)).toEqual({
      label: 0,
      sentiment: 'negative',
      score: 0.4999,
      knownFeatures: 1,
    });
    expect(toPrediction(1, 2)).toEqual({ label: 1, sentiment: 'positive', score: 1, knownFeatures: 2 });
    expect(toPrediction(0, 2)).toEqual({ label: 0, sentiment: 'negative', score: 0, knownFeatures: 2 });
    expect(toPrediction(0.5000001, 1).label).toBe(1);
  });

  it('gives no label and no score when no feature of the text is known, whatever the score', () => {
    const unknown = { label: null, sentiment: 'unknown', score: null, knownFeatures: 0 };
    expect(toPrediction(0.514, 0)).toEqual(unknown);
    expect(toPrediction(0.01, 0)).toEqual(unknown);
    expect(UNKNOWN_PREDICTION).toEqual(unknown);
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

  it('returns one {label, sentiment, score, knownFeatures} per text, in order; "unknown" without features', () => {
    const texts = ['good', 'bad', 'xyz', 'Bad, bad, bad!', 'not good', 'good bad'];
    const predictions = predict(predictor, texts);
    expect(predictions).toHaveLength(texts.length);
    for (const p of predictions)
      expect(Object.keys(p).sort()).toEqual(['knownFeatures', 'label', 'score', 'sentiment']);
    expect(
      predictions.map(({ label, sentiment, knownFeatures }) => [label, sentiment, knownFeatures]),
    ).toEqual([
      [1, 'positive', 1],
      [0, 'negative', 1],
      // "xyz", and "not good" (the tokens "not" and "NOT_good"), have no vocabulary word: the model would
      // only return its bias, sigmoid(0.5) = 0.62, a confident-looking "positive".
      [null, 'unknown', 0],
      [0, 'negative', 1],
      [null, 'unknown', 0],
      [1, 'positive', 2],
    ]);
    expect(predictions[0].score).toBeCloseTo(sigmoid(3.5), 6);
    expect(predictions[1].score).toBeCloseTo(sigmoid(-1.5), 6);
    expect(predictions[2].score).toBeNull();
    expect(predictions[5].score).toBeCloseTo(sigmoid(0.5 + Math.SQRT1_2), 6);
  });

  it('keeps scoring texts without features for evaluation (scoreTexts is the bias alone)', () => {
    expect(scoreTexts(predictor, ['xyz'])[0]).toBeCloseTo(sigmoid(0.5), 6);
    const scored = scoreTextsWithFeatures(predictor, ['good bad', 'xyz', 'bad']);
    expect(Array.from(scored.knownFeatures)).toEqual([2, 0, 1]);
    expect(Array.from(scored.scores)).toEqual(Array.from(scoreTexts(predictor, ['good bad', 'xyz', 'bad'])));
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

describe('unreadable input', () => {
  it('answers "unknown" for emoji-only, other-script and zero-width text, with the real feature set', async () => {
    // The project's vectorizer settings (word 1-2-grams, char 2-5-grams, AFINN and VADER) on 300 reviews.
    const rows: Array<{ text: string; class: number }> = createRequire(import.meta.url)(
      'sentiment/test/fixtures/yelp.json',
    ).slice(0, 300);
    const vectorizer = new TfidfVectorizer({
      word: { ngramRange: [1, 2], maxFeatures: 20000, minDf: 1 },
      char: { ngramRange: [2, 5], maxFeatures: 20000, minDf: 2 },
      sublinearTf: true,
      lexicons: ['afinn', 'vader'],
    }).fit(rows.map((r) => r.text));
    const x = vectorizer.transformMatrix(rows.map((r) => r.text));
    const model = buildClassifier(
      x.columns,
      { type: 'logistic_regression', hiddenUnits: 1, dropout: 0, l2: 1e-4, seed: 1 },
      0.05,
    );
    await trainClassifier(
      model,
      x,
      rows.map((r) => r.class),
      { learningRate: 0.05, epochs: 5, batchSize: 32, validationSplit: 0, patience: 1, seed: 1 },
    );
    const real: Predictor = { model, vectorizer };
    const unknown = { label: null, sentiment: 'unknown', score: null, knownFeatures: 0 };
    const texts = [
      '🍕🍕🍕', // emoji only
      '😍👍🔥',
      'Очень вкусно, спасибо!', // Cyrillic
      '非常好吃', // Chinese
      '美味しいラーメン', // Japanese
      '\u200b\u200c\u200d\u2060', // zero-width characters only
      'The food was amazing and the staff were so friendly!',
    ];
    const predictions = predict(real, texts);
    expect(predictions.slice(0, 6)).toEqual(Array(6).fill(unknown));
    expect(predictions[6]).toEqual({
      label: 1,
      sentiment: 'positive',
      score: expect.closeTo(scoreTextsWithTfjs(real, [texts[6]])[0], 5),
      knownFeatures: 141,
    });
    // 141 = the non-zero columns of its dense feature row.
    expect(vectorizer.transformMatrix([texts[6]]).data.filter((v) => v !== 0)).toHaveLength(141);
    // Before: every one of them got the bias alone as a "positive" score.
    const bias = scoreTexts(real, ['🍕🍕🍕'])[0];
    expect(Array.from(scoreTexts(real, texts.slice(0, 6)))).toEqual(Array(6).fill(bias));
    model.dispose();
  });

  it('counts known features on the tfjs path too', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [2], units: 2, kernelInitializer: 'ones' }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'ones' }),
      ],
    });
    const other: Predictor = { model, vectorizer: predictor.vectorizer };
    const texts = ['good', 'xyz', 'good bad'];
    const scored = scoreTextsWithFeatures(other, texts);
    expect(Array.from(scored.knownFeatures)).toEqual([1, 0, 2]);
    expect(Array.from(scored.scores)).toEqual(Array.from(scoreTextsWithTfjs(other, texts)));
    expect(predict(other, texts).map((p) => p.sentiment)).toEqual(['positive', 'unknown', 'positive']);
    model.dispose();
  });
});
