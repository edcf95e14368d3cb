/** Prediction: raw texts in, labelled scores out. */
import * as tf from '@tensorflow/tfjs';
import type { Predictor } from './bundle/bundle.js';

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
 * Positive-class probabilities for `texts`.
 * @returns texts.length numbers in [0, 1] (float32 precision).
 */
export function scoreTexts(predictor: Predictor, texts: readonly string[]): Float32Array {
  if (texts.length === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const x = predictor.vectorizer.transform(texts);
    return (predictor.model.apply(x) as tf.Tensor).reshape([-1]).dataSync() as Float32Array;
  });
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
