/**
 * Drift monitoring in lib-ml: the shared buckets, bin counting with Prometheus' `le` semantics, the
 * out-of-vocabulary rate, the Jensen–Shannon distance (checked against SciPy's values), and the drift
 * reference a bundle manifest carries (measured, parsed, turned into shares).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import type { Predictor } from '../src/bundle/bundle.js';
import { jensenShannonDistance } from '../src/drift/distance.js';
import {
  binCounts,
  binShares,
  leLabel,
  OOV_RATE_BUCKETS,
  PREDICTION_SCORE_BUCKETS,
} from '../src/drift/histogram.js';
import { knownWords, oovRate, oovRates } from '../src/drift/oov.js';
import {
  DriftReferenceError,
  measureDriftReference,
  parseDriftReference,
  referenceShares,
  type DriftReference,
} from '../src/drift/reference.js';
import { buildClassifier } from '../src/model/classifier.js';
import { TfidfVectorizer } from '../src/vectorizer/tfidf.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** A unigram vectorizer over a tiny corpus (no char block, no lexicons: only words are features). */
function wordVectorizer(corpus: string[], ngramRange: [number, number] = [1, 1]): TfidfVectorizer {
  return new TfidfVectorizer({
    word: { ngramRange, maxFeatures: 1000, minDf: 1 },
    char: null,
    sublinearTf: false,
    lexicons: [],
  }).fit(corpus);
}

describe('buckets', () => {
  it('are the bounds model-service and the chart use, as Prometheus writes them', () => {
    expect(PREDICTION_SCORE_BUCKETS.map(leLabel)).toEqual([
      '0.1',
      '0.2',
      '0.3',
      '0.4',
      '0.5',
      '0.6',
      '0.7',
      '0.8',
      '0.9',
      '1',
    ]);
    expect(OOV_RATE_BUCKETS.map(leLabel)).toEqual([
      '0',
      '0.1',
      '0.2',
      '0.3',
      '0.4',
      '0.5',
      '0.6',
      '0.8',
      '1',
    ]);
    expect(Object.isFrozen(PREDICTION_SCORE_BUCKETS)).toBe(true);
  });

  it('count a value equal to a bound in that bound’s bin, as `le` does', () => {
    expect(binCounts([0, 0.1, 0.1000001, 0.5, 0.95, 1], PREDICTION_SCORE_BUCKETS)).toEqual([
      2, 1, 0, 0, 1, 0, 0, 0, 0, 2,
    ]);
    expect(binCounts([0, 0, 0.25, 1 / 3, 0.75, 1], OOV_RATE_BUCKETS)).toEqual([2, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(binCounts([], [1])).toEqual([0]);
  });

  it('refuse values outside the buckets and bad bounds', () => {
    expect(() => binCounts([1.5], PREDICTION_SCORE_BUCKETS)).toThrow(
      new RangeError('value 1.5 is outside the buckets (≤ 1)'),
    );
    expect(() => binCounts([Number.NaN], PREDICTION_SCORE_BUCKETS)).toThrow(
      new RangeError('value NaN is outside the buckets (≤ 1)'),
    );
    expect(() => binCounts([0], [0.5, 0.5])).toThrow(
      new RangeError('buckets[1]: 0.5 is not above buckets[0] (0.5)'),
    );
    expect(() => binCounts([0], [])).toThrow(new RangeError('buckets: need at least one bound'));
  });

  it('turn counts into shares, none for no count', () => {
    expect(binShares([1, 3, 0])).toEqual([0.25, 0.75, 0]);
    expect(binShares([0, 0])).toBeNull();
  });
});

describe('oovRate', () => {
  const vectorizer = wordVectorizer(['Great food', 'great service', 'The food was bland'], [1, 2]);

  it('knows every word of every word n-gram of the vocabulary', () => {
    expect([...knownWords(vectorizer)].sort()).toEqual(['bland', 'food', 'great', 'servic']);
  });

  it('is the share of token occurrences the vocabulary does not know', () => {
    // Tokens: great, food, aw, servic → "aw" unknown: 1 of 4.
    expect(oovRate(vectorizer, 'Great food, awful service')).toBe(0.25);
    // Repeats count: pizza, pizza, food → 2 of 3.
    expect(oovRate(vectorizer, 'Pizza pizza food')).toBe(2 / 3);
    expect(oovRate(vectorizer, 'Great food')).toBe(0);
    expect(oovRate(vectorizer, 'Zorblax quux')).toBe(1);
    // A negated word is another token than the word: great, food, not, NOT_great → 2 of 4 unknown.
    expect(oovRate(vectorizer, 'Great food, not great')).toBe(0.5);
  });

  it('is null for a text without a word token (empty, emoji, stopwords only)', () => {
    expect(oovRates(vectorizer, ['', '🙂🙂', 'the and of', 'food'])).toEqual([null, null, null, 0]);
  });
});

describe('jensenShannonDistance', () => {
  // Expected values: scipy.spatial.distance.jensenshannon(p, q, base=2) (SciPy 1.10.1).
  it.each([
    [[1, 0], [0, 1], 1.0],
    [[0.5, 0.5], [0.5, 0.5], 0],
    [[0.1, 0.4, 0.5], [0.8, 0.15, 0.05], 0.6482287947757129],
    [[2, 3, 5], [1, 1, 8], 0.2742192679775268],
    [[1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], 0.740806952380577],
    [[8, 2, 1, 1, 0, 0, 1, 1, 1, 1], [3, 2, 1, 1, 1, 1, 1, 1, 2, 3], 0.38328920613035455],
  ])('of %j and %j is %d (SciPy)', (p, q, expected) => {
    expect(jensenShannonDistance(p, q)).toBeCloseTo(expected, 14);
    expect(jensenShannonDistance(q, p)).toBeCloseTo(expected, 14);
  });

  it('refuses bins that do not describe two distributions', () => {
    expect(() => jensenShannonDistance([1], [1, 0])).toThrow(
      new RangeError('p and q need the same number (≥ 1) of bins, got 1 and 2'),
    );
    expect(() => jensenShannonDistance([0, 0], [1, 0])).toThrow(new RangeError('p sums to 0'));
    expect(() => jensenShannonDistance([1, 0], [1, -1])).toThrow(
      new RangeError('q[1] = -1 is not a weight ≥ 0'),
    );
  });
});

describe('the drift reference', () => {
  /**
   * A logistic regression over the unigrams of a tiny corpus with weights set by hand: "good" +4, "bad"
   * −4, every other word 0, bias 0; a text with one known word has that word's TF-IDF value 1 (unit norm),
   * so "good" scores sigmoid(4), "bad" sigmoid(−4), "food" exactly 0.5.
   */
  function handPredictor(): Predictor {
    const vectorizer = wordVectorizer(['good food', 'bad food', 'good service']);
    const names = vectorizer.featureNames();
    const model = buildClassifier(names.length, {
      type: 'logistic_regression',
      hiddenUnits: 1,
      dropout: 0,
      l2: 0,
      seed: 1,
    });
    const kernel = names.map((n) => (n === 'w:good' ? 4 : n === 'w:bad' ? -4 : 0));
    model.setWeights([tf.tensor2d(kernel, [names.length, 1]), tf.tensor1d([0])]);
    return { model, vectorizer };
  }

  it('counts scored rows per score bin and rows with words per OOV bin, and what it leaves out', () => {
    const texts = ['good', 'bad', 'food', 'xyzzy', 'the and', 'good xyzzy'];
    expect(measureDriftReference(handPredictor(), texts, 'test')).toEqual({
      dataset: 'test',
      rows: 6,
      // good 0.982, bad 0.018, food 0.5 (in le 0.5), good xyzzy 0.982; xyzzy and "the and": no feature.
      predictionScore: {
        buckets: [...PREDICTION_SCORE_BUCKETS],
        counts: [1, 0, 0, 0, 1, 0, 0, 0, 0, 2],
        excluded: 2,
      },
      // good, bad, food 0; xyzzy 1; good xyzzy 0.5; "the and": no word token.
      oovRate: { buckets: [...OOV_RATE_BUCKETS], counts: [3, 0, 0, 0, 0, 1, 0, 0, 1], excluded: 1 },
    });
    expect(() => measureDriftReference(handPredictor(), [], 'test')).toThrow(
      new RangeError('a drift reference needs at least one text'),
    );
  });

  const valid = (): DriftReference => ({
    dataset: 'test',
    rows: 5,
    predictionScore: {
      buckets: [...PREDICTION_SCORE_BUCKETS],
      counts: [1, 0, 0, 0, 0, 0, 0, 0, 1, 2],
      excluded: 1,
    },
    oovRate: { buckets: [...OOV_RATE_BUCKETS], counts: [4, 0, 0, 0, 0, 0, 0, 0, 0], excluded: 1 },
  });

  it('parses a manifest’s reference and gives the shares to export', () => {
    expect(parseDriftReference(JSON.parse(JSON.stringify(valid())))).toEqual(valid());
    expect(referenceShares(valid())).toEqual({
      predictionScore: [0.25, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.5],
      oovRate: [1, 0, 0, 0, 0, 0, 0, 0, 0],
    });
    const unscored = {
      ...valid(),
      predictionScore: { ...valid().predictionScore, counts: Array(10).fill(0), excluded: 5 },
    };
    expect(referenceShares(unscored).predictionScore).toBeNull();
  });

  it.each([
    ['null', null, 'reference is not an object'],
    ['an empty dataset', { ...valid(), dataset: '' }, 'reference.dataset is not a non-empty string'],
    ['no rows', { ...valid(), rows: 0 }, 'reference.rows is not an integer ≥ 1'],
    ['no oovRate', { ...valid(), oovRate: undefined }, 'reference.oovRate is not an object'],
    [
      'buckets not ascending',
      { ...valid(), predictionScore: { ...valid().predictionScore, buckets: [0.5, 0.2] } },
      'reference.predictionScore.buckets[1]: 0.2 is not above buckets[0] (0.5)',
    ],
    [
      'a count per bucket missing',
      { ...valid(), predictionScore: { ...valid().predictionScore, counts: [1, 2] } },
      'reference.predictionScore.counts must be 10 integers ≥ 0 (one per bucket)',
    ],
    [
      'a negative count',
      { ...valid(), oovRate: { ...valid().oovRate, counts: [4, 0, 0, 0, 0, 0, 0, 0, -1] } },
      'reference.oovRate.counts must be 9 integers ≥ 0 (one per bucket)',
    ],
    [
      'counts not adding up to rows',
      { ...valid(), oovRate: { ...valid().oovRate, excluded: 2 } },
      'reference.oovRate: counts plus excluded add up to 6, not to rows (5)',
    ],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseDriftReference(value)).toThrow(new DriftReferenceError(message));
  });

  it('refuses to export a reference measured with other bins', () => {
    const other = { ...valid(), predictionScore: { buckets: [0.5, 1], counts: [1, 3], excluded: 1 } };
    expect(() => referenceShares(parseDriftReference(other))).toThrow(
      new DriftReferenceError(
        'reference.predictionScore.buckets [0.5, 1] differ from the live histogram’s [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]',
      ),
    );
  });
});
