/** Prediction: raw texts in, labelled scores out. */
import * as tf from '@tensorflow/tfjs';
import type { Predictor } from './bundle/bundle.js';
import { SparseScorer } from './model/sparse-scorer.js';
import { densify, toTensor, type FeatureMatrix } from './vectorizer/tfidf.js';

/** A prediction for a text in which at least one feature of the vectorizer fires. */
export interface KnownPrediction {
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
  sentiment: 'positive' | 'negative';
  /** Probability of the positive class, in [0, 1]. */
  score: number;
  /** Non-zero features of the text (vocabulary n-grams and lexicon features), ≥ 1. */
  knownFeatures: number;
}

/**
 * The answer for a text in which no feature fires (no vocabulary n-gram, no lexicon feature: emoji only,
 * a script the training data never had, zero-width characters). The model would only return its bias
 * (a constant "score"), so no label is given.
 */
export interface UnknownPrediction {
  label: null;
  sentiment: 'unknown';
  score: null;
  knownFeatures: 0;
}

/** One prediction: {@link KnownPrediction}, or {@link UnknownPrediction} when no feature fires. */
export type Prediction = KnownPrediction | UnknownPrediction;

/** Positive-class probabilities and the number of non-zero features of each text. */
export interface ScoredTexts {
  /** texts.length probabilities in [0, 1] (the bias alone for a text without features). */
  scores: Float32Array;
  /** texts.length counts of non-zero feature columns. */
  knownFeatures: Uint32Array;
}

/** Decision threshold on the positive-class probability. */
export const THRESHOLD = 0.5;

/** Positive-class probabilities of the rows of `matrix` through the tfjs model; matrix.rows numbers. */
function scoreMatrixWithTfjs(predictor: Predictor, matrix: FeatureMatrix): Float32Array {
  return tf.tidy(() => {
    const x = toTensor(matrix);
    return (predictor.model.apply(x) as tf.Tensor).reshape([-1]).dataSync() as Float32Array;
  });
}

/**
 * Positive-class probabilities for `texts` through tfjs on dense features (the reference path).
 * @returns texts.length numbers in [0, 1] (float32 precision).
 */
export function scoreTextsWithTfjs(predictor: Predictor, texts: readonly string[]): Float32Array {
  if (texts.length === 0) return new Float32Array(0);
  return scoreMatrixWithTfjs(predictor, predictor.vectorizer.transformMatrix(texts));
}

/** Sparse scorers by model; null where the model needs tfjs. Built on first use. */
const scorers = new WeakMap<tf.LayersModel, SparseScorer | null>();

/** The sparse scorer of a predictor's model, or null when the model needs tfjs (cached per model). */
function sparseScorer(predictor: Predictor): SparseScorer | null {
  let scorer = scorers.get(predictor.model);
  if (scorer === undefined) {
    scorer = SparseScorer.from(predictor.model);
    if (scorer && scorer.inputs !== predictor.vectorizer.nFeatures) scorer = null;
    scorers.set(predictor.model, scorer);
  }
  return scorer;
}

/**
 * Positive-class probabilities and feature counts for `texts`: sparse features through
 * {@link SparseScorer} when the model allows it (same scores as tfjs to ~1e-6, many times faster), else
 * {@link scoreTextsWithTfjs}. The scorer copies the weights once per model; train the model fully before
 * scoring it this way.
 * @returns scores and knownFeatures, each of length texts.length.
 */
export function scoreTextsWithFeatures(predictor: Predictor, texts: readonly string[]): ScoredTexts {
  if (texts.length === 0) return { scores: new Float32Array(0), knownFeatures: new Uint32Array(0) };
  const rows = predictor.vectorizer.transformSparse(texts);
  const knownFeatures = Uint32Array.from(rows, (row) => row.indices.length);
  const scorer = sparseScorer(predictor);
  const scores = scorer
    ? scorer.score(rows)
    : scoreMatrixWithTfjs(predictor, densify(rows, predictor.vectorizer.nFeatures));
  return { scores, knownFeatures };
}

/**
 * Positive-class probabilities for `texts` (what evaluation uses), by the same path as
 * {@link scoreTextsWithFeatures}.
 * @returns texts.length numbers in [0, 1].
 */
export function scoreTexts(predictor: Predictor, texts: readonly string[]): Float32Array {
  return scoreTextsWithFeatures(predictor, texts).scores;
}

/** The prediction for a text without any known feature. */
export const UNKNOWN_PREDICTION: Readonly<UnknownPrediction> = Object.freeze({
  label: null,
  sentiment: 'unknown',
  score: null,
  knownFeatures: 0,
});

/**
 * Turns a positive-class probability into a {@link Prediction}: score ≥ 0.5 → positive; no known
 * feature (knownFeatures 0) → {@link UNKNOWN_PREDICTION} whatever the score.
 * @param knownFeatures non-zero features of the text (an integer ≥ 0).
 */
export function toPrediction(score: number, knownFeatures: number): Prediction {
  if (knownFeatures === 0) return { ...UNKNOWN_PREDICTION };
  const label = score >= THRESHOLD ? 1 : 0;
  return { label, sentiment: label === 1 ? 'positive' : 'negative', score, knownFeatures };
}

/**
 * Predictions for the texts scored by {@link scoreTextsWithFeatures}.
 * @returns scored.scores.length predictions, same order.
 */
export function toPredictions(scored: ScoredTexts): Prediction[] {
  return Array.from(scored.scores, (score, i) => toPrediction(score, scored.knownFeatures[i]));
}

/**
 * Predicts the sentiment of each text.
 * @param predictor a loaded bundle (or model + vectorizer).
 * @param texts raw review texts (any length ≥ 0).
 * @returns one prediction per text, same order; `sentiment: "unknown"` (label and score null) for a
 *   text in which no feature fires.
 */
export function predict(predictor: Predictor, texts: readonly string[]): Prediction[] {
  return toPredictions(scoreTextsWithFeatures(predictor, texts));
}
