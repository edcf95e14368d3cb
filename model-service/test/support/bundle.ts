/**
 * Test model bundles: a small logistic regression trained on the first 300 Yelp reviews (about a second),
 * written as a release folder `model-v<version>/` like the pipeline's publish stage does, with the drift
 * reference measured on the next 300 (held-out) reviews, as the pipeline measures it on its test split.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  buildClassifier,
  initBackend,
  measureDriftReference,
  saveModelArtifacts,
  TfidfVectorizer,
  trainClassifier,
  writeManifest,
  type DriftReference,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';

const require = createRequire(import.meta.url);

/** Rows of the `sentiment` package's Yelp reviews: the test predictor trains on [0, 300). */
export const TRAIN_ROWS: readonly [number, number] = [0, 300];
/** The held-out rows the test releases' drift reference is measured on. */
export const REFERENCE_ROWS: readonly [number, number] = [300, 600];

/** Texts of the `sentiment` package's Yelp reviews in [from, to). */
export function yelpTexts([from, to]: readonly [number, number]): string[] {
  return (require('sentiment/test/fixtures/yelp.json') as Array<{ text: string }>)
    .slice(from, to)
    .map((r) => r.text);
}

let trained: Promise<Predictor> | null = null;
/** The test predictor's drift reference (measured once per test file). */
let testReference: DriftReference | undefined;

/** The shared test predictor (trained once per test file). */
export function testPredictor(): Promise<Predictor> {
  trained ??= (async () => {
    await initBackend('wasm');
    const rows: Array<{ text: string; class: 0 | 1 }> = require('sentiment/test/fixtures/yelp.json').slice(
      ...TRAIN_ROWS,
    );
    const vectorizer = new TfidfVectorizer({
      word: { ngramRange: [1, 2], maxFeatures: 5000, minDf: 1 },
      char: { ngramRange: [2, 4], maxFeatures: 5000, minDf: 2 },
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
      { learningRate: 0.05, epochs: 15, batchSize: 32, validationSplit: 0, patience: 1, seed: 1 },
    );
    return { model, vectorizer };
  })();
  return trained;
}

/**
 * Writes release folder `<registryDir>/model-v<version>/` with the test predictor.
 * @returns the folder.
 */
export async function writeTestRelease(registryDir: string, version: string): Promise<string> {
  const dir = path.join(registryDir, `model-v${version}`);
  await mkdir(dir, { recursive: true });
  const predictor = await testPredictor();
  await saveModelArtifacts(dir, predictor);
  await writeManifest(dir, {
    name: 'restaurant-sentiment',
    version,
    created: '2026-11-30T00:00:00.000Z',
    params: {},
    dataset: { source: 'test', sha256: '0'.repeat(64), rows: { train: 300 } },
    metrics: {},
    reference: (testReference ??= measureDriftReference(
      predictor,
      yelpTexts(REFERENCE_ROWS),
      'yelp rows 300-599',
    )),
  });
  return dir;
}
