/**
 * The drift reference of a model: how its prediction scores and its inputs' out-of-vocabulary rates are
 * distributed on data it was not trained on (the pipeline's held-out test split). `publish` stores it in
 * the bundle manifest (`reference`); model-service exports it as gauges next to its live histograms, and
 * the chart's recording rules compare the two (Jensen–Shannon distance, ./distance.ts).
 *
 * Both histograms use the bins of ./histogram.ts, the same as model-service's `model_prediction_score`
 * and `model_input_oov_ratio`, and leave out what model-service leaves out: texts without any known
 * feature have no score (`sentiment: "unknown"`), texts without any word token have no OOV rate.
 */
import type { Predictor } from '../bundle/bundle.js';
import { scoreTextsWithFeatures } from '../predict.js';
import {
  assertBuckets,
  binCounts,
  binShares,
  OOV_RATE_BUCKETS,
  PREDICTION_SCORE_BUCKETS,
  sameBuckets,
  type HistogramCounts,
} from './histogram.js';
import { oovRates } from './oov.js';

/** One reference histogram and the rows it leaves out. */
export interface ReferenceHistogram extends HistogramCounts {
  /** Rows of the set that are not counted (no score, or no OOV rate). */
  excluded: number;
}

/** The `reference` of a bundle manifest. */
export interface DriftReference {
  /** The set it was measured on, e.g. "test" (the held-out split of data/prepared). */
  dataset: string;
  /** Rows of that set; each histogram's counts plus its `excluded` add up to it. */
  rows: number;
  /** Positive-class probabilities of the rows with a known feature; bins {@link PREDICTION_SCORE_BUCKETS}. */
  predictionScore: ReferenceHistogram;
  /** OOV rates of the rows with a word token; bins {@link OOV_RATE_BUCKETS}. */
  oovRate: ReferenceHistogram;
}

/** A manifest's `reference` that cannot be used; the message says which field is wrong and why. */
export class DriftReferenceError extends Error {
  override name = 'DriftReferenceError';
}

/**
 * Measures the drift reference of `predictor` on `texts`.
 * @param texts the reference set's raw texts (at least one).
 * @param dataset what the set is, recorded as `dataset`.
 * @returns histograms over {@link PREDICTION_SCORE_BUCKETS} and {@link OOV_RATE_BUCKETS}.
 * @throws RangeError when `texts` is empty.
 */
export function measureDriftReference(
  predictor: Predictor,
  texts: readonly string[],
  dataset: string,
): DriftReference {
  if (texts.length === 0) throw new RangeError('a drift reference needs at least one text');
  const { scores, knownFeatures } = scoreTextsWithFeatures(predictor, texts);
  const scored = Array.from(scores).filter((_, i) => knownFeatures[i] > 0);
  const rates = oovRates(predictor.vectorizer, texts).filter((r): r is number => r !== null);
  return {
    dataset,
    rows: texts.length,
    predictionScore: {
      buckets: [...PREDICTION_SCORE_BUCKETS],
      counts: binCounts(scored, PREDICTION_SCORE_BUCKETS),
      excluded: texts.length - scored.length,
    },
    oovRate: {
      buckets: [...OOV_RATE_BUCKETS],
      counts: binCounts(rates, OOV_RATE_BUCKETS),
      excluded: texts.length - rates.length,
    },
  };
}

const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

function parseHistogram(value: unknown, field: string, rows: number): ReferenceHistogram {
  const h = value as Partial<ReferenceHistogram> | null;
  if (!h || typeof h !== 'object') throw new DriftReferenceError(`reference.${field} is not an object`);
  if (!Array.isArray(h.buckets) || !h.buckets.every((b) => typeof b === 'number')) {
    throw new DriftReferenceError(`reference.${field}.buckets is not an array of numbers`);
  }
  try {
    assertBuckets(h.buckets);
  } catch (error) {
    throw new DriftReferenceError(`reference.${field}.${(error as Error).message}`);
  }
  if (!Array.isArray(h.counts) || h.counts.length !== h.buckets.length || !h.counts.every(isCount)) {
    throw new DriftReferenceError(
      `reference.${field}.counts must be ${h.buckets.length} integers ≥ 0 (one per bucket)`,
    );
  }
  if (!isCount(h.excluded))
    throw new DriftReferenceError(`reference.${field}.excluded is not an integer ≥ 0`);
  const total = h.counts.reduce((a, b) => a + b, 0) + h.excluded;
  if (total !== rows) {
    throw new DriftReferenceError(
      `reference.${field}: counts plus excluded add up to ${total}, not to rows (${rows})`,
    );
  }
  return { buckets: [...h.buckets], counts: [...h.counts], excluded: h.excluded };
}

/**
 * Checks the shape of a manifest's `reference` (as JSON, from any lib-ml).
 * @returns a copy typed as {@link DriftReference}.
 * @throws DriftReferenceError naming the first field that is missing or wrong.
 */
export function parseDriftReference(value: unknown): DriftReference {
  const r = value as Partial<DriftReference> | null;
  if (!r || typeof r !== 'object' || Array.isArray(r)) {
    throw new DriftReferenceError('reference is not an object');
  }
  if (typeof r.dataset !== 'string' || r.dataset === '') {
    throw new DriftReferenceError('reference.dataset is not a non-empty string');
  }
  if (!isCount(r.rows) || r.rows === 0) throw new DriftReferenceError('reference.rows is not an integer ≥ 1');
  return {
    dataset: r.dataset,
    rows: r.rows,
    predictionScore: parseHistogram(r.predictionScore, 'predictionScore', r.rows),
    oovRate: parseHistogram(r.oovRate, 'oovRate', r.rows),
  };
}

/** Per-bin shares of a reference, keyed by the bins' upper bounds, ready to export. */
export interface ReferenceShares {
  /** {@link PREDICTION_SCORE_BUCKETS}.length shares summing to 1, or null when no row was scored. */
  predictionScore: number[] | null;
  /** {@link OOV_RATE_BUCKETS}.length shares summing to 1, or null when no row had a word token. */
  oovRate: number[] | null;
}

/**
 * The shares a service exports for `reference`, checked against the buckets of its live histograms.
 * @throws DriftReferenceError when a histogram's buckets differ from this lib-ml's (a reference made for
 *   other bins cannot be compared with the live ones).
 */
export function referenceShares(reference: DriftReference): ReferenceShares {
  for (const [field, expected] of [
    ['predictionScore', PREDICTION_SCORE_BUCKETS],
    ['oovRate', OOV_RATE_BUCKETS],
  ] as const) {
    if (!sameBuckets(reference[field].buckets, expected)) {
      throw new DriftReferenceError(
        `reference.${field}.buckets [${reference[field].buckets.join(', ')}] differ from the live histogram’s [${expected.join(', ')}]`,
      );
    }
  }
  return {
    predictionScore: binShares(reference.predictionScore.counts),
    oovRate: binShares(reference.oovRate.counts),
  };
}
