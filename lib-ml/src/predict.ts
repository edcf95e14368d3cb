/** Prediction: raw texts in, labelled scores out. */
import * as tf from '@tensorflow/tfjs';
import type { Predictor } from './bundle/bundle.js';
import { SparseScorer } from './model/sparse-scorer.js';

/** One prediction. */
export interface Prediction {
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
  sentiment: 'positive' | 'negative';
  /** Probability of the positive class, in [0, 1]. */
  score: number;
}

/** Decision threshold on the positive-class probability. */
export const THRESHOLD = 0.5;

/**
 * Positive-class probabilities for `texts` through tfjs on dense features (the reference path).
 * @returns texts.length numbers in [0, 1] (float32 precision).
 */
export function scoreTextsWithTfjs(predictor: Predictor, texts: readonly string[]): Float32Array {
  if (texts.length === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const x = predictor.vectorizer.transform(texts);
    return (predictor.model.apply(x) as tf.Tensor).reshape([-1]).dataSync() as Float32Array;
  });
}

/** Sparse scorers by model; null where the model needs tfjs. Built on first use. */
const scorers = new WeakMap<tf.LayersModel, SparseScorer | null>();

/**
 * Positive-class probabilities for `texts`: sparse features through {@link SparseScorer} when the model
 * allows it (same scores as tfjs to ~1e-6, many times faster), else {@link scoreTextsWithTfjs}. The
 * scorer copies the weights once per model; train the model fully before scoring it this way.
 * @returns texts.length numbers in [0, 1].
 */
export function scoreTexts(predictor: Predictor, texts: readonly string[]): Float32Array {
  if (texts.length === 0) return new Float32Array(0);
  let scorer = scorers.get(predictor.model);
  if (scorer === undefined) {
    scorer = SparseScorer.from(predictor.model);
    if (scorer && scorer.inputs !== predictor.vectorizer.nFeatures) scorer = null;
    scorers.set(predictor.model, scorer);
  }
  return scorer
    ? scorer.score(predictor.vectorizer.transformSparse(texts))
    : scoreTextsWithTfjs(predictor, texts);
}

/** Turns a positive-class probability into a {@link Prediction} (score ≥ 0.5 → positive). */
export function toPrediction(score: number): Prediction {
  const label = score >= THRESHOLD ? 1 : 0;
  return { label, sentiment: label === 1 ? 'positive' : 'negative', score };
}

/**
 * Predicts the sentiment of each text.
 * @param predictor a loaded bundle (or model + vectorizer).
 * @param texts raw review texts (any length ≥ 0).
 * @returns one prediction per text, same order.
 */
export function predict(predictor: Predictor, texts: readonly string[]): Prediction[] {
  return Array.from(scoreTexts(predictor, texts), toPrediction);
}
