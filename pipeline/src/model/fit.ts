/** Fitting a predictor (vectorizer + classifier) from labelled rows with the params: shared by train and CV. */
import {
  buildClassifier,
  TfidfVectorizer,
  trainClassifier,
  type EpochRecord,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';
import type { LabelledRow } from '../data/dataset.js';
import { classifierConfig, trainConfig, vectorizerConfig, type Params } from '../params.js';

/**
 * Fits the vectorizer on `rows`, then builds and trains the classifier on its features.
 * @param onEpoch progress callback, once per epoch.
 * @returns the predictor and the per-epoch history.
 */
export async function fitPredictor(
  rows: readonly LabelledRow[],
  params: Params,
  onEpoch?: (record: EpochRecord) => void,
): Promise<{ predictor: Predictor; history: EpochRecord[] }> {
  const texts = rows.map((r) => r.text);
  const vectorizer = new TfidfVectorizer(vectorizerConfig(params)).fit(texts);
  const features = vectorizer.transformMatrix(texts);
  const tc = trainConfig(params);
  const model = buildClassifier(vectorizer.nFeatures, classifierConfig(params), tc.learningRate);
  const history = await trainClassifier(
    model,
    features,
    rows.map((r) => r.label),
    tc,
    onEpoch,
  );
  return { predictor: { model, vectorizer }, history };
}
