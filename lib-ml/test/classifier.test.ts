import { beforeAll, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import {
  buildClassifier,
  predictScores,
  trainClassifier,
  type ClassifierConfig,
  type EpochRecord,
  type TrainConfig,
} from '../src/model/classifier.js';
import { TfidfVectorizer, type VectorizerConfig } from '../src/vectorizer/tfidf.js';

const require = createRequire(import.meta.url);
const yelp: Array<{ text: string; class: number }> = require('sentiment/test/fixtures/yelp.json');
const rows = yelp.slice(0, 120);
const texts = rows.map((r) => r.text);
const labels = rows.map((r) => r.class);

const VECTORIZER: VectorizerConfig = {
  word: { ngramRange: [1, 1], maxFeatures: 300, minDf: 1 },
  char: null,
  sublinearTf: true,
  lexicons: ['afinn'],
};
const CLASSIFIER: ClassifierConfig = {
  type: 'logistic_regression',
  hiddenUnits: 8,
  dropout: 0,
  l2: 0.0001,
  seed: 1,
};
const TRAIN: TrainConfig = {
  learningRate: 0.05,
  epochs: 25,
  batchSize: 16,
  validationSplit: 0.2,
  patience: 5,
  seed: 1,
};
const PROBES = [
  'The food was amazing and delicious',
  'Terrible service, the food was cold and awful',
  'Great place, loved it',
  'Not good at all',
];

interface Run {
  history: EpochRecord[];
  scores: number[];
  weights: number[][];
}

async function trainOnce(trainConfig: TrainConfig = TRAIN): Promise<Run> {
  const vectorizer = new TfidfVectorizer(VECTORIZER).fit(texts);
  const x = vectorizer.transformMatrix(texts);
  const model = buildClassifier(vectorizer.nFeatures, CLASSIFIER, trainConfig.learningRate);
  try {
    const history = await trainClassifier(model, x, labels, trainConfig);
    const probe = vectorizer.transform(PROBES);
    const scores = Array.from(predictScores(model, probe));
    probe.dispose();
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    return { history, scores, weights };
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

describe('buildClassifier', () => {
  it('builds a logistic regression: one sigmoid unit with zero-initialized kernel', () => {
    const model = buildClassifier(7, CLASSIFIER);
    try {
      expect(model.inputs[0].shape).toEqual([null, 7]);
      expect(model.outputs[0].shape).toEqual([null, 1]);
      expect(model.layers).toHaveLength(1);
      expect(model.countParams()).toBe(8);
      const [kernel, bias] = model.getWeights();
      expect(kernel.shape).toEqual([7, 1]);
      expect(Array.from(kernel.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(Array.from(bias.dataSync())).toEqual([0]);
      // Zero weights → every probability is sigmoid(0) = 0.5.
      const x = tf.ones([2, 7]) as tf.Tensor2D;
      expect(Array.from(predictScores(model, x))).toEqual([0.5, 0.5]);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  it('builds a seeded MLP: Dense(relu) → Dropout → Dense(sigmoid)', () => {
    const config: ClassifierConfig = { type: 'mlp', hiddenUnits: 4, dropout: 0.3, l2: 0, seed: 3 };
    const a = buildClassifier(5, config);
    const b = buildClassifier(5, config);
    try {
      expect(a.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dropout', 'Dense']);
      expect(a.countParams()).toBe(5 * 4 + 4 + 4 + 1);
      const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
      const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
      expect(wb).toEqual(wa);
      expect(wa[0].some((v) => v !== 0)).toBe(true);
      const noDropout = buildClassifier(5, { ...config, dropout: 0 });
      expect(noDropout.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dense']);
      noDropout.dispose();
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('trainClassifier', () => {
  it('is deterministic: two runs from scratch give identical histories, weights and scores', async () => {
    const first = await trainOnce();
    const second = await trainOnce();
    expect(second.history.length).toBe(first.history.length);
    expect(second.history).toEqual(first.history);
    expect(second.weights).toEqual(first.weights);
    expect(second.scores).toEqual(first.scores);

    expect(first.history.length).toBeGreaterThan(0);
    expect(first.history.length).toBeLessThanOrEqual(TRAIN.epochs);
    first.history.forEach((record, i) => {
      expect(record.epoch).toBe(i + 1);
      expect(record.valLoss).not.toBeNull();
      expect(record.valAccuracy).not.toBeNull();
      expect(record.accuracy).toBeGreaterThanOrEqual(0);
      expect(record.accuracy).toBeLessThanOrEqual(1);
    });
    // Training lowers the training loss below that of the all-0.5 start (ln 2).
    expect(first.history[first.history.length - 1].loss).toBeLessThan(Math.log(2));

    for (const s of first.scores) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    const [delicious, terrible, great, notGood] = first.scores;
    expect(delicious).toBeGreaterThanOrEqual(0.5);
    expect(terrible).toBeLessThan(0.5);
    expect(great).toBeGreaterThanOrEqual(0.5);
    expect(notGood).toBeLessThan(0.5);
  });

  it('runs every epoch without a validation split and reports null validation metrics', async () => {
    const config: TrainConfig = { ...TRAIN, epochs: 3, validationSplit: 0 };
    const seen: number[] = [];
    const vectorizer = new TfidfVectorizer(VECTORIZER).fit(texts);
    const model = buildClassifier(vectorizer.nFeatures, CLASSIFIER, config.learningRate);
    try {
      const history = await trainClassifier(model, vectorizer.transformMatrix(texts), labels, config, (r) =>
        seen.push(r.epoch),
      );
      expect(history.map((r) => r.epoch)).toEqual([1, 2, 3]);
      expect(seen).toEqual([1, 2, 3]);
      for (const r of history) {
        expect(r.valLoss).toBeNull();
        expect(r.valAccuracy).toBeNull();
      }
    } finally {
      model.dispose();
    }
  });

  it('stops early after `patience` epochs without improvement and restores the best weights', async () => {
    const config: TrainConfig = { ...TRAIN, learningRate: 1, epochs: 40, patience: 2 };
    const vectorizer = new TfidfVectorizer(VECTORIZER).fit(texts);
    const model = buildClassifier(vectorizer.nFeatures, CLASSIFIER, config.learningRate);
    const snapshots: number[][][] = [];
    try {
      const history = await trainClassifier(model, vectorizer.transformMatrix(texts), labels, config, () => {
        snapshots.push(model.getWeights().map((w) => Array.from(w.dataSync())));
      });
      expect(history.length).toBeLessThan(config.epochs);
      expect(snapshots).toHaveLength(history.length);
      const valLosses = history.map((r) => r.valLoss as number);
      const best = valLosses.indexOf(Math.min(...valLosses));
      // Stopped exactly `patience` epochs after the best one.
      expect(history.length).toBe(best + 1 + config.patience);
      const final = model.getWeights().map((w) => Array.from(w.dataSync()));
      expect(final).toEqual(snapshots[best]);
      expect(final).not.toEqual(snapshots[snapshots.length - 1]);
    } finally {
      model.dispose();
    }
  });

  it('throws when the number of labels differs from the number of rows', async () => {
    const model = buildClassifier(3, CLASSIFIER);
    const x = { data: new Float32Array(6), rows: 2, columns: 3 };
    try {
      await expect(trainClassifier(model, x, [1], TRAIN)).rejects.toThrow(
        'trainClassifier: 1 labels for 2 rows',
      );
      await expect(trainClassifier(model, x, [1, 0, 1], TRAIN)).rejects.toThrow(
        'trainClassifier: 3 labels for 2 rows',
      );
    } finally {
      model.dispose();
    }
  });
});
