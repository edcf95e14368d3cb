import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { preprocess } from '../src/text/preprocess.js';
import {
  charNgrams,
  selectRows,
  TfidfVectorizer,
  toTensor,
  VECTORIZER_FORMAT_VERSION,
  VectorizerStateError,
  wordNgrams,
  type VectorizerConfig,
} from '../src/vectorizer/tfidf.js';
import { afinnFeatures, afinnScore, LEXICON_FEATURES, vaderFeatures } from '../src/vectorizer/lexicon.js';

/** smooth idf: ln((1 + n) / (1 + df)) + 1 */
const idf = (n: number, df: number): number => Math.log((1 + n) / (1 + df)) + 1;

/** Scales the given column → value map to unit L2 norm. */
function unit(values: Record<string, number>): Record<string, number> {
  const norm = Math.sqrt(Object.values(values).reduce((s, v) => s + v * v, 0));
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v / norm]));
}

/** The dense row of `sparse` over `names` (absent columns are 0). */
function dense(names: readonly string[], sparse: Record<string, number>): number[] {
  for (const key of Object.keys(sparse)) expect(names).toContain(key);
  return names.map((n) => sparse[n] ?? 0);
}

function expectRowClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 6));
}

function config(overrides: Partial<VectorizerConfig> = {}): VectorizerConfig {
  return {
    word: { ngramRange: [1, 1], maxFeatures: 1000, minDf: 1 },
    char: null,
    sublinearTf: false,
    lexicons: [],
    ...overrides,
  };
}

/** Rows of a transform() result as plain arrays; disposes the tensor. */
function rowsOf(v: TfidfVectorizer, texts: string[]): number[][] {
  const t = v.transform(texts);
  try {
    return t.arraySync();
  } finally {
    t.dispose();
  }
}

const CORPUS = ['Good food', 'Bad food', 'Good good service', 'Not good'];

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(() => {
  tf.disposeVariables();
});

describe('n-gram helpers', () => {
  it('wordNgrams lists all n-grams of each length in order', () => {
    expect(wordNgrams(['a', 'b', 'c'], [1, 1])).toEqual(['a', 'b', 'c']);
    expect(wordNgrams(['a', 'b', 'c'], [1, 2])).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    expect(wordNgrams(['a', 'b', 'c'], [2, 3])).toEqual(['a b', 'b c', 'a b c']);
    expect(wordNgrams(['a', 'b'], [3, 4])).toEqual([]);
    expect(wordNgrams([], [1, 2])).toEqual([]);
  });

  it('charNgrams pads each word with spaces (char_wb) and yields a short word once', () => {
    expect(charNgrams(['ab'], [2, 3])).toEqual([' a', 'ab', 'b ', ' ab', 'ab ']);
    expect(charNgrams(['ab', 'c'], [2, 2])).toEqual([' a', 'ab', 'b ', ' c', 'c ']);
    expect(charNgrams(['a'], [2, 4])).toEqual([' a', 'a ', ' a ']);
    expect(charNgrams(['a'], [4, 5])).toEqual([' a ']);
    expect(charNgrams(['NOT_ok'], [5, 5])).toEqual([' NOT_', 'NOT_o', 'OT_ok', 'T_ok ']);
    expect(charNgrams([], [2, 3])).toEqual([]);
  });
});

describe('TfidfVectorizer word block', () => {
  it('learns a sorted vocabulary and smooth idf weights', () => {
    expect(CORPUS.map(preprocess)).toEqual([
      ['good', 'food'],
      ['bad', 'food'],
      ['good', 'good', 'servic'],
      ['not', 'NOT_good'],
    ]);
    const v = new TfidfVectorizer(config()).fit(CORPUS);
    expect(v.fitted).toBe(true);
    expect(v.featureNames()).toEqual(['w:NOT_good', 'w:bad', 'w:food', 'w:good', 'w:not', 'w:servic']);
    expect(v.nFeatures).toBe(6);
    const json = v.toJSON();
    // Written with the lowest format that describes it: 1 for the default ("punctuation") negation rules.
    expect(json.formatVersion).toBe(1);
    expect(json.nDocuments).toBe(4);
    expect(json.char).toBeNull();
    expect(json.word.vocabulary).toEqual(['NOT_good', 'bad', 'food', 'good', 'not', 'servic']);
    const expectedIdf = [idf(4, 1), idf(4, 1), idf(4, 2), idf(4, 2), idf(4, 1), idf(4, 1)];
    expect(json.word.idf).toHaveLength(6);
    json.word.idf.forEach((value, i) => expect(value).toBeCloseTo(expectedIdf[i], 12));
    expect(idf(4, 1)).toBeCloseTo(Math.log(2.5) + 1, 12);
  });

  it('gives exact L2-normalized rows with raw counts', () => {
    const v = new TfidfVectorizer(config()).fit(CORPUS);
    const names = v.featureNames();
    const rows = rowsOf(v, CORPUS);
    expectRowClose(rows[0], [0, 0, Math.SQRT1_2, Math.SQRT1_2, 0, 0]);
    expectRowClose(rows[1], dense(names, unit({ 'w:bad': idf(4, 1), 'w:food': idf(4, 2) })));
    expectRowClose(rows[2], dense(names, unit({ 'w:good': 2 * idf(4, 2), 'w:servic': idf(4, 1) })));
    expectRowClose(rows[3], [Math.SQRT1_2, 0, 0, 0, Math.SQRT1_2, 0]);
    // Hand-checked: idf(df=1) = 1.916291, idf(df=2) = 1.510826; bad = 1.916291 / √(1.916291² + 1.510826²).
    expect(idf(4, 1)).toBeCloseTo(1.916291, 6);
    expect(idf(4, 2)).toBeCloseTo(1.510826, 6);
    expect(rows[1][1]).toBeCloseTo(0.785288, 6);
    expect(rows[1][2]).toBeCloseTo(0.61913, 6);
  });

  it('uses 1 + ln(count) with sublinearTf', () => {
    const v = new TfidfVectorizer(config({ sublinearTf: true })).fit(CORPUS);
    const names = v.featureNames();
    const [row] = rowsOf(v, ['good good good service service food']);
    expectRowClose(
      row,
      dense(
        names,
        unit({
          'w:good': (1 + Math.log(3)) * idf(4, 2),
          'w:servic': (1 + Math.log(2)) * idf(4, 1),
          'w:food': idf(4, 2),
        }),
      ),
    );
    const [plain] = rowsOf(new TfidfVectorizer(config()).fit(CORPUS), [
      'good good good service service food',
    ]);
    expectRowClose(
      plain,
      dense(names, unit({ 'w:good': 3 * idf(4, 2), 'w:servic': 2 * idf(4, 1), 'w:food': idf(4, 2) })),
    );
  });

  it('counts word bigrams over the preprocessed tokens', () => {
    const v = new TfidfVectorizer(config({ word: { ngramRange: [1, 2], maxFeatures: 1000, minDf: 1 } })).fit(
      CORPUS,
    );
    expect(v.featureNames()).toEqual([
      'w:NOT_good',
      'w:bad',
      'w:bad food',
      'w:food',
      'w:good',
      'w:good food',
      'w:good good',
      'w:good servic',
      'w:not',
      'w:not NOT_good',
      'w:servic',
    ]);
    const names = v.featureNames();
    const [row] = rowsOf(v, ['good food']);
    expectRowClose(
      row,
      dense(names, unit({ 'w:good': idf(4, 2), 'w:food': idf(4, 2), 'w:good food': idf(4, 1) })),
    );
  });

  it('gives an all-zero row for text without known n-grams', () => {
    const v = new TfidfVectorizer(config()).fit(CORPUS);
    expect(rowsOf(v, ['xyzzy plugh', '', '😀'])).toEqual([
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ]);
  });

  it('does not depend on the order of the training texts', () => {
    const a = new TfidfVectorizer(config({ word: { ngramRange: [1, 2], maxFeatures: 5, minDf: 1 } })).fit(
      CORPUS,
    );
    const b = new TfidfVectorizer(config({ word: { ngramRange: [1, 2], maxFeatures: 5, minDf: 1 } })).fit(
      [...CORPUS].reverse(),
    );
    const c = new TfidfVectorizer(config({ word: { ngramRange: [1, 2], maxFeatures: 5, minDf: 1 } })).fit([
      CORPUS[2],
      CORPUS[0],
      CORPUS[3],
      CORPUS[1],
    ]);
    expect(b.featureNames()).toEqual(a.featureNames());
    expect(c.featureNames()).toEqual(a.featureNames());
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(c.toJSON()).toEqual(a.toJSON());
    expect(rowsOf(b, CORPUS)).toEqual(rowsOf(a, CORPUS));
  });
});

describe('minDf and maxFeatures', () => {
  const texts = ['soup fish rice', 'soup cake', 'soup rice milk'];
  const fitWith = (maxFeatures: number, minDf: number): TfidfVectorizer =>
    new TfidfVectorizer(config({ word: { ngramRange: [1, 1], maxFeatures, minDf } })).fit(texts);

  it('keeps n-grams in at least minDf documents', () => {
    expect(texts.map(preprocess)).toEqual([
      ['soup', 'fish', 'rice'],
      ['soup', 'cake'],
      ['soup', 'rice', 'milk'],
    ]);
    expect(fitWith(1000, 1).featureNames()).toEqual(['w:cake', 'w:fish', 'w:milk', 'w:rice', 'w:soup']);
    expect(fitWith(1000, 2).featureNames()).toEqual(['w:rice', 'w:soup']);
    expect(fitWith(1000, 3).featureNames()).toEqual(['w:soup']);
    expect(fitWith(1000, 4).featureNames()).toEqual([]);
  });

  it('keeps the maxFeatures n-grams with the highest df, ties broken by text', () => {
    expect(fitWith(1, 1).featureNames()).toEqual(['w:soup']);
    expect(fitWith(2, 1).featureNames()).toEqual(['w:rice', 'w:soup']);
    expect(fitWith(3, 1).featureNames()).toEqual(['w:cake', 'w:rice', 'w:soup']);
    expect(fitWith(4, 1).featureNames()).toEqual(['w:cake', 'w:fish', 'w:rice', 'w:soup']);
    expect(fitWith(3, 2).featureNames()).toEqual(['w:rice', 'w:soup']);
    // The same choice whatever the order of the texts.
    const reversed = new TfidfVectorizer(
      config({ word: { ngramRange: [1, 1], maxFeatures: 3, minDf: 1 } }),
    ).fit([...texts].reverse());
    expect(reversed.featureNames()).toEqual(['w:cake', 'w:rice', 'w:soup']);
  });

  it('keeps idf computed over all documents after selection', () => {
    const json = fitWith(2, 1).toJSON();
    expect(json.word.idf[0]).toBeCloseTo(idf(3, 2), 12);
    expect(json.word.idf[1]).toBeCloseTo(idf(3, 3), 12);
    expect(json.word.idf[1]).toBeCloseTo(1, 12);
  });
});

describe('TfidfVectorizer char block', () => {
  const charConfig = config({
    word: { ngramRange: [1, 1], maxFeatures: 1000, minDf: 1 },
    char: { ngramRange: [1, 1], maxFeatures: 1000, minDf: 1 },
  });

  it('learns char n-grams from the unstemmed words and normalizes each block separately', () => {
    const v = new TfidfVectorizer(charConfig).fit(['good food', 'bad food']);
    expect(v.featureNames()).toEqual([
      'w:bad',
      'w:food',
      'w:good',
      'c: ',
      'c:a',
      'c:b',
      'c:d',
      'c:f',
      'c:g',
      'c:o',
    ]);
    const names = v.featureNames();
    const rows = rowsOf(v, ['good food', 'bad food']);
    expectRowClose(
      rows[0],
      dense(names, {
        ...unit({ 'w:good': idf(2, 1), 'w:food': idf(2, 2) }),
        ...unit({
          'c: ': 4 * idf(2, 2),
          'c:d': 2 * idf(2, 2),
          'c:f': idf(2, 2),
          'c:g': idf(2, 1),
          'c:o': 4 * idf(2, 2),
        }),
      }),
    );
    expectRowClose(
      rows[1],
      dense(names, {
        ...unit({ 'w:bad': idf(2, 1), 'w:food': idf(2, 2) }),
        ...unit({
          'c: ': 4 * idf(2, 2),
          'c:a': idf(2, 1),
          'c:b': idf(2, 1),
          'c:d': 2 * idf(2, 2),
          'c:f': idf(2, 2),
          'c:o': 2 * idf(2, 2),
        }),
      }),
    );
    for (const row of rows) {
      const wordNorm = Math.hypot(...row.slice(0, 3));
      const charNorm = Math.hypot(...row.slice(3));
      expect(wordNorm).toBeCloseTo(1, 6);
      expect(charNorm).toBeCloseTo(1, 6);
    }
  });

  it('takes char n-grams from negation-marked words including stopwords', () => {
    const v = new TfidfVectorizer(
      config({
        word: { ngramRange: [1, 1], maxFeatures: 1, minDf: 1 },
        char: { ngramRange: [3, 3], maxFeatures: 1000, minDf: 1 },
      }),
    ).fit(['not ok', 'the ok']);
    // Word tokens: ["not", "NOT_ok"] and ["ok"], all df 1: maxFeatures 1 keeps the first by text.
    expect(v.featureNames()).toEqual([
      'w:NOT_ok',
      'c: NO',
      'c: no',
      'c: ok',
      'c: th',
      'c:NOT',
      'c:OT_',
      'c:T_o',
      'c:_ok',
      'c:he ',
      'c:not',
      'c:ok ',
      'c:ot ',
      'c:the',
    ]);
  });

  it('keeps the word block unit norm when the char block is empty and vice versa', () => {
    const v = new TfidfVectorizer(charConfig).fit(['good food', 'bad food']);
    // "the" is a stopword: no word n-grams, but its characters are known.
    const [onlyChars] = rowsOf(v, ['the']);
    expect(onlyChars.slice(0, 3)).toEqual([0, 0, 0]);
    expect(Math.hypot(...onlyChars.slice(3))).toBeCloseTo(1, 6);
    expect(onlyChars[3]).toBeCloseTo(1, 6); // only " " is in the char vocabulary
  });
});

describe('lexicon features', () => {
  it('scores words with AFINN-165, negated under NOT_', () => {
    expect(afinnScore('good')).toBe(3);
    expect(afinnScore('bad')).toBe(-3);
    expect(afinnScore('amazing')).toBe(4);
    expect(afinnScore('NOT_good')).toBe(-3);
    expect(afinnScore('NOT_bad')).toBe(3);
    expect(afinnScore('food')).toBe(0);
    expect(afinnFeatures([])).toEqual([0, 0, 0]);
    // Object.prototype names are not AFINN words.
    expect(afinnFeatures(['constructor', '__proto__', 'toString'])).toEqual([0, 0, 0]);
    expect(afinnFeatures(['good', 'food'])).toEqual([Math.tanh(3 / 5), Math.tanh(3 / 5), 0]);
    expect(afinnFeatures(['good', 'bad'])).toEqual([0, Math.tanh(3 / 5), Math.tanh(-3 / 5)]);
  });

  it('appends the AFINN columns unscaled after the TF-IDF blocks', () => {
    const v = new TfidfVectorizer(config({ lexicons: ['afinn'] })).fit(CORPUS);
    expect(v.featureNames()).toEqual([
      'w:NOT_good',
      'w:bad',
      'w:food',
      'w:good',
      'w:not',
      'w:servic',
      'afinn:score',
      'afinn:positive',
      'afinn:negative',
    ]);
    expect(v.nFeatures).toBe(9);
    const rows = rowsOf(v, [
      'Good food',
      'Bad food',
      'Not good',
      'not bad',
      'good but bad',
      'amazing food',
      'plain',
    ]);
    const lex = rows.map((r) => r.slice(6));
    const t = (x: number): number => Math.tanh(x / 5);
    const expected = [
      [t(3), t(3), 0],
      [t(-3), 0, t(-3)],
      [t(-3), 0, t(-3)],
      [t(3), t(3), 0],
      [0, t(3), t(-3)],
      [t(4), t(4), 0],
      [0, 0, 0],
    ];
    lex.forEach((r, i) => expectRowClose(r, expected[i]));
    // The word block is still unit norm on its own.
    expect(Math.hypot(...rows[0].slice(0, 6))).toBeCloseTo(1, 6);
    expect(lex[0][0]).toBeCloseTo(0.53705, 6);
  });

  it('appends VADER compound/positive/negative in range with the right sign', () => {
    expect(LEXICON_FEATURES.vader).toEqual(['vader:compound', 'vader:positive', 'vader:negative']);
    const v = new TfidfVectorizer(config({ lexicons: ['vader'] })).fit(CORPUS);
    expect(v.featureNames().slice(-3)).toEqual(['vader:compound', 'vader:positive', 'vader:negative']);
    expect(v.nFeatures).toBe(9);
    const [pos, neg, neutral] = rowsOf(v, [
      'The food was amazing and delicious',
      'Terrible service, the food was cold and awful',
      '',
    ]).map((r) => r.slice(6));
    for (const [compound, p, n] of [pos, neg, neutral]) {
      expect(compound).toBeGreaterThanOrEqual(-1);
      expect(compound).toBeLessThanOrEqual(1);
      for (const share of [p, n]) {
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1);
      }
    }
    expect(pos[0]).toBeGreaterThan(0.5);
    expect(pos[1]).toBeGreaterThan(0);
    expect(pos[2]).toBe(0);
    expect(neg[0]).toBeLessThan(-0.5);
    expect(neg[2]).toBeGreaterThan(0);
    expect(neutral).toEqual([0, 0, 0]);
    expect(vaderFeatures('the food was amazing and delicious')[0]).toBeCloseTo(pos[0], 6);
  });

  it('appends lexicons in the configured order', () => {
    const v = new TfidfVectorizer(config({ lexicons: ['vader', 'afinn'] })).fit(CORPUS);
    expect(v.featureNames().slice(6)).toEqual([
      'vader:compound',
      'vader:positive',
      'vader:negative',
      'afinn:score',
      'afinn:positive',
      'afinn:negative',
    ]);
    const [row] = rowsOf(v, ['good']);
    expectRowClose(row.slice(9), [Math.tanh(0.6), Math.tanh(0.6), 0]);
  });
});

describe('transform output and errors', () => {
  it('returns a float32 Tensor2D of shape [n, nFeatures] matching transformMatrix', () => {
    const v = new TfidfVectorizer(config({ lexicons: ['afinn'] })).fit(CORPUS);
    const t = v.transform(['good', 'bad food', 'xyz']);
    try {
      expect(t.shape).toEqual([3, 9]);
      expect(t.rank).toBe(2);
      expect(t.dtype).toBe('float32');
      const m = v.transformMatrix(['good', 'bad food', 'xyz']);
      expect(m.rows).toBe(3);
      expect(m.columns).toBe(9);
      expect(Array.from(t.dataSync())).toEqual(Array.from(m.data));
    } finally {
      t.dispose();
    }
    const empty = v.transform([]);
    expect(empty.shape).toEqual([0, 9]);
    empty.dispose();
    const ft = new TfidfVectorizer(config()).fitTransform(CORPUS);
    expect(ft.shape).toEqual([4, 6]);
    ft.dispose();
  });

  it('selectRows copies rows in the given order and toTensor keeps the shape', () => {
    const m = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), rows: 3, columns: 2 };
    const s = selectRows(m, [2, 0, 2]);
    expect(s.rows).toBe(3);
    expect(s.columns).toBe(2);
    expect(Array.from(s.data)).toEqual([5, 6, 1, 2, 5, 6]);
    s.data[0] = 99;
    expect(m.data[4]).toBe(5);
    const t = toTensor(m);
    expect(t.shape).toEqual([3, 2]);
    expect(t.arraySync()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    t.dispose();
  });

  it('throws VectorizerStateError before fit', () => {
    const v = new TfidfVectorizer(config());
    expect(v.fitted).toBe(false);
    expect(() => v.transform(['good'])).toThrow(VectorizerStateError);
    expect(() => v.transform(['good'])).toThrow('vectorizer is not fitted');
    expect(() => v.transformMatrix(['good'])).toThrow(VectorizerStateError);
    expect(() => v.featureNames()).toThrow(VectorizerStateError);
    expect(() => v.nFeatures).toThrow(VectorizerStateError);
    expect(() => v.toJSON()).toThrow(VectorizerStateError);
  });

  it('refuses to fit on zero texts', () => {
    const v = new TfidfVectorizer(config());
    expect(() => v.fit([])).toThrow(VectorizerStateError);
    expect(() => v.fit([])).toThrow('cannot fit a vectorizer on zero texts');
    expect(v.fitted).toBe(false);
  });

  it('fromJSON rejects other format versions and malformed objects', () => {
    const json = new TfidfVectorizer(config()).fit(CORPUS).toJSON();
    const other = { ...json, formatVersion: VECTORIZER_FORMAT_VERSION + 1 };
    expect(() => TfidfVectorizer.fromJSON(other)).toThrow(VectorizerStateError);
    expect(() => TfidfVectorizer.fromJSON(other)).toThrow(
      'vectorizer format version 3 is not supported (this lib-ml reads versions 1 and 2)',
    );
    expect(() => TfidfVectorizer.fromJSON({ ...json, formatVersion: undefined })).toThrow(
      /version undefined/,
    );
    expect(() => TfidfVectorizer.fromJSON(null)).toThrow('vectorizer JSON is not an object');
    expect(() => TfidfVectorizer.fromJSON('{}')).toThrow(VectorizerStateError);
    expect(() => TfidfVectorizer.fromJSON({ ...json, word: { vocabulary: ['a'], idf: [] } })).toThrow(
      /vectorizer JSON is malformed/,
    );
    expect(() => TfidfVectorizer.fromJSON({ ...json, char: undefined })).toThrow(VectorizerStateError);
    expect(() => TfidfVectorizer.fromJSON({ ...json, nDocuments: '4' })).toThrow(VectorizerStateError);
    expect(() => TfidfVectorizer.fromJSON({ ...json, config: undefined })).toThrow(VectorizerStateError);
  });
});

describe('serialization round trip', () => {
  const fullConfig = config({
    word: { ngramRange: [1, 2], maxFeatures: 50, minDf: 1 },
    char: { ngramRange: [2, 4], maxFeatures: 200, minDf: 1 },
    sublinearTf: true,
    lexicons: ['afinn', 'vader'],
  });
  const train = [
    'The food was great and the service was friendly.',
    'Terrible food, I will never come back!',
    "The pasta wasn't good but the dessert was amazing",
    'Cold fries &amp; rude staff',
    'Best <b>burger</b> in town, would go again',
  ];
  const unseen = [
    'Never had such good food',
    'The staff was not friendly at all!',
    'zzz qqq',
    '',
    'Amazing dessert 😀, terrible coffee',
  ];

  it('toJSON → JSON text → fromJSON gives identical transform outputs on unseen texts', () => {
    const original = new TfidfVectorizer(fullConfig).fit(train);
    const text = JSON.stringify(original.toJSON());
    const restored = TfidfVectorizer.fromJSON(JSON.parse(text));
    expect(restored.fitted).toBe(true);
    expect(restored.nFeatures).toBe(original.nFeatures);
    expect(restored.featureNames()).toEqual(original.featureNames());
    expect(restored.config).toEqual(fullConfig);
    expect(JSON.stringify(restored.toJSON())).toBe(text);

    const a = original.transform(unseen);
    const b = restored.transform(unseen);
    try {
      expect(b.shape).toEqual(a.shape);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      expect(Array.from(a.dataSync()).some((x) => x !== 0)).toBe(true);
    } finally {
      tf.dispose([a, b]);
    }
    expect(Array.from(restored.transformMatrix(unseen).data)).toEqual(
      Array.from(original.transformMatrix(unseen).data),
    );
  });

  it('round-trips a vectorizer without a char block or lexicons', () => {
    const original = new TfidfVectorizer(config()).fit(CORPUS);
    const restored = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    expect(restored.featureNames()).toEqual(original.featureNames());
    expect(rowsOf(restored, unseen)).toEqual(rowsOf(original, unseen));
  });
});

describe('vectorizer JSON consistency', () => {
  it('rejects a char block that config.char does not declare', () => {
    const v = new TfidfVectorizer({
      word: { ngramRange: [1, 1], maxFeatures: 10, minDf: 1 },
      char: { ngramRange: [2, 3], maxFeatures: 10, minDf: 1 },
      sublinearTf: false,
      lexicons: [],
    }).fit(['good food', 'bad food']);
    const json = JSON.parse(JSON.stringify(v.toJSON()));
    json.config.char = null;
    expect(() => TfidfVectorizer.fromJSON(json)).toThrow(
      'vectorizer JSON is malformed: config.char and the char block disagree',
    );
  });
});

describe('negation rules (config.negation)', () => {
  const corpus = ['Not fancy but great food', 'Great food', 'Not great', 'I could not be happier'];
  const text = 'not fancy but great food';
  /** Names of the non-zero columns of `text`, in column order of the row. */
  const columnsOf = (v: TfidfVectorizer, t: string) => {
    const names = v.featureNames();
    return Array.from(v.transformSparse([t])[0].indices, (i) => names[i]);
  };

  it('"clause" rules change the vocabulary and features and are written as format version 2', () => {
    const v = new TfidfVectorizer(config({ negation: 'clause' })).fit(corpus);
    expect(v.negationScope).toBe('clause');
    expect(v.featureNames()).toEqual([
      'w:NOT_fanci',
      'w:NOT_great',
      'w:food',
      'w:great',
      'w:happier',
      'w:not',
    ]);
    expect(columnsOf(v, text)).toEqual(['w:not', 'w:NOT_fanci', 'w:great', 'w:food']);
    expect(v.analyze('I could not be happier').tokens).toEqual(['happier']);
    const json = v.toJSON();
    expect(json.formatVersion).toBe(2);
    expect(json.config.negation).toBe('clause');
    const restored = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(restored.negationScope).toBe('clause');
    expect(restored.transformSparse(corpus)).toEqual(v.transformSparse(corpus));
  });

  it('"punctuation" rules, also when named, are format version 1 and the original features', () => {
    for (const negation of [undefined, 'punctuation'] as const) {
      const v = new TfidfVectorizer(config({ negation })).fit(corpus);
      expect(v.negationScope).toBe('punctuation');
      expect(v.toJSON().formatVersion).toBe(1);
      expect(v.featureNames()).toEqual([
        'w:NOT_fanci',
        'w:NOT_food',
        'w:NOT_great',
        'w:NOT_happier',
        'w:food',
        'w:great',
        'w:not',
      ]);
      expect(columnsOf(v, text)).toEqual(['w:not', 'w:NOT_fanci', 'w:NOT_great', 'w:NOT_food']);
      expect(v.analyze('I could not be happier').tokens).toEqual(['not', 'NOT_happier']);
    }
  });

  it('serves a vectorizer.json written before the setting existed (format 1, no key) with the original rules', () => {
    // The same fitted state, saved the way lib-ml wrote it before "negation" existed.
    const json = new TfidfVectorizer(config({ negation: 'clause' })).fit(corpus).toJSON();
    const legacyConfig: Partial<VectorizerConfig> = { ...json.config };
    delete legacyConfig.negation;
    const legacy = TfidfVectorizer.fromJSON({ ...json, formatVersion: 1, config: legacyConfig });
    expect(legacy.negationScope).toBe('punctuation');
    // "great" and "food" are negated as they always were ("NOT_great" is in this vocabulary, "NOT_food" is not).
    expect(columnsOf(legacy, text)).toEqual(['w:not', 'w:NOT_fanci', 'w:NOT_great']);
    expect(legacy.toJSON().formatVersion).toBe(1);
  });

  it('fromJSON refuses "clause" rules in format version 1 and rules it does not know', () => {
    const json = new TfidfVectorizer(config({ negation: 'clause' })).fit(corpus).toJSON();
    expect(() => TfidfVectorizer.fromJSON({ ...json, formatVersion: 1 })).toThrow(
      'vectorizer JSON is malformed: negation rules "clause" need format version 2, not 1',
    );
    expect(() =>
      TfidfVectorizer.fromJSON({ ...json, config: { ...json.config, negation: 'sentence' } }),
    ).toThrow(
      'vectorizer JSON has negation rules "sentence" that this lib-ml does not know (it knows punctuation, clause)',
    );
  });

  it('with "clause" rules a negated word adds only the NOT_ marker to the char block', () => {
    const char = { ngramRange: [3, 3] as [number, number], maxFeatures: 1000, minDf: 1 };
    const names = (negation: 'punctuation' | 'clause') =>
      new TfidfVectorizer(config({ char, negation })).fit(['not bad']).featureNames();
    expect(names('clause')).toEqual([
      'w:NOT_bad',
      'w:not',
      'c: NO',
      'c: no',
      'c:NOT',
      'c:OT_',
      'c:T_ ',
      'c:not',
      'c:ot ',
    ]);
    expect(names('punctuation')).toEqual([
      'w:NOT_bad',
      'w:not',
      'c: NO',
      'c: no',
      'c:NOT',
      'c:OT_',
      'c:T_b',
      'c:_ba',
      'c:ad ',
      'c:bad',
      'c:not',
      'c:ot ',
    ]);
  });

  it('with "clause" rules VADER scores the text with the same negations ("no" shown as "not")', () => {
    const row = (negation: 'punctuation' | 'clause') => {
      const v = new TfidfVectorizer(config({ lexicons: ['vader'], negation })).fit(['no complaints']);
      return Array.from(v.transformMatrix(['No complaints']).data.slice(-3));
    };
    expectRowClose(row('clause'), vaderFeatures('not complaints'));
    expectRowClose(row('clause'), [0.3089, 0.693, 0]);
    expectRowClose(row('punctuation'), [-0.5994, 0, 1]);
  });
});
