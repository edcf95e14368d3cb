/**
 * TF-IDF vectorizer over word n-grams and character n-grams, with optional lexicon features (AFINN-165, VADER).
 *
 * Weighting follows scikit-learn's TfidfVectorizer (smooth_idf=True):
 *   idf(t) = ln((1 + n) / (1 + df(t))) + 1, tf = raw count, or 1 + ln(count) when `sublinearTf`,
 * and each block (word, char) of a row is scaled to unit L2 norm separately, as a FeatureUnion of two
 * vectorizers would. Lexicon features (see ./lexicon.ts) are appended after the two blocks unscaled.
 *
 * Character n-grams are taken from the negation-marked words (`NOT_good` yields " NOT_", "_goo", ...), so
 * they carry negation too. With the `"clause"` negation rules a negated word contributes only the marker
 * `NOT_` to the character block: its own letters would otherwise add the polarity of the un-negated word
 * ("not bad" would count the n-grams of "bad"), while the word block keeps `NOT_bad`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  analyze,
  NEGATION_PREFIX,
  NEGATION_SCOPES,
  type NegationScope,
  type TextAnalysis,
} from '../text/preprocess.js';
import { LEXICON_FEATURES, lexiconFeatures, type LexiconName } from './lexicon.js';

/**
 * Newest serialization format of {@link TfidfVectorizer.toJSON}; bumped on any change that an older lib-ml
 * would read wrongly. Version 1: no `negation` setting ("punctuation" rules). Version 2: `config.negation`
 * may be "clause". A vectorizer is written with the lowest version that describes it (see
 * {@link formatVersionFor}), so bundles with the original rules stay readable by older lib-ml, and older
 * lib-ml refuses a "clause" vectorizer instead of serving it with the wrong rules.
 */
export const VECTORIZER_FORMAT_VERSION = 2;

/** The format versions {@link TfidfVectorizer.fromJSON} reads. */
export const SUPPORTED_VECTORIZER_FORMAT_VERSIONS: readonly number[] = [1, 2];

/** Settings of one n-gram block. */
export interface NgramConfig {
  /** Inclusive [min, max] n-gram lengths (words for the word block, characters for the char block). */
  ngramRange: [number, number];
  /** Keep at most this many n-grams: the ones in most documents, ties broken by the n-gram's text. */
  maxFeatures: number;
  /** Drop n-grams that occur in fewer than this many training documents. */
  minDf: number;
}

/** Vectorizer settings (`vectorizer` section of params.yaml). */
export interface VectorizerConfig {
  word: NgramConfig;
  /** Character n-grams from the negation-marked words, each padded with a space on both sides; null = off. */
  char: NgramConfig | null;
  /** Use 1 + ln(tf) instead of raw counts. */
  sublinearTf: boolean;
  /** Lexicon features to append, in this order (3 columns each); [] for none. */
  lexicons: LexiconName[];
  /**
   * Negation scope rules (see lib-ml's negationRoles); absent = "punctuation", the only rules of format
   * version 1 (so a vectorizer.json written before this setting existed is served as it was trained).
   */
  negation?: NegationScope;
}

/** The lowest vectorizer.json format version that describes `config` (1, or 2 for "clause" negation). */
export function formatVersionFor(config: VectorizerConfig): number {
  return (config.negation ?? 'punctuation') === 'punctuation' ? 1 : 2;
}

/** A dense row-major float32 matrix: `data[r * columns + c]`; `data.length === rows * columns`. */
export interface FeatureMatrix {
  data: Float32Array;
  rows: number;
  columns: number;
}

/** Copies `matrix` into a tf.Tensor2D of shape [rows, columns]; the caller disposes it. */
export function toTensor(matrix: FeatureMatrix): tf.Tensor2D {
  return tf.tensor2d(matrix.data, [matrix.rows, matrix.columns]);
}

/**
 * Sparse rows as a dense row-major matrix (zeros elsewhere).
 * @param rows rows.length sparse rows, each column index < `columns`.
 * @returns a matrix of shape [rows.length, columns].
 */
export function densify(rows: readonly SparseRow[], columns: number): FeatureMatrix {
  const data = new Float32Array(rows.length * columns);
  rows.forEach(({ indices, values }, i) => {
    for (let k = 0; k < indices.length; k++) data[i * columns + indices[k]] = values[k];
  });
  return { data, rows: rows.length, columns };
}

/**
 * The given rows of `matrix`, in the given order, as a new matrix (a copy).
 * @param rows row indices, each in [0, matrix.rows).
 */
export function selectRows(matrix: FeatureMatrix, rows: readonly number[]): FeatureMatrix {
  const { columns } = matrix;
  const data = new Float32Array(rows.length * columns);
  rows.forEach((r, i) => data.set(matrix.data.subarray(r * columns, (r + 1) * columns), i * columns));
  return { data, rows: rows.length, columns };
}

/** Fitted state of one n-gram block. */
interface BlockState {
  /** N-grams in column order (sorted by text, so the order does not depend on the input order). */
  vocabulary: string[];
  /** idf of each n-gram, same length and order as `vocabulary`. */
  idf: number[];
}

/** The JSON form written to `vectorizer.json`. */
export interface VectorizerJSON {
  formatVersion: number;
  config: VectorizerConfig;
  nDocuments: number;
  word: BlockState;
  char: BlockState | null;
}

/** Thrown when a vectorizer is used before `fit`, or its JSON is of another format version or malformed. */
export class VectorizerStateError extends Error {
  override name = 'VectorizerStateError';
}

/** Word n-grams (tokens joined by a space) of lengths min..max. */
export function wordNgrams(tokens: readonly string[], [min, max]: [number, number]): string[] {
  const grams: string[] = [];
  for (let n = min; n <= max; n++) {
    for (let i = 0; i + n <= tokens.length; i++) grams.push(tokens.slice(i, i + n).join(' '));
  }
  return grams;
}

/**
 * Character n-grams of lengths min..max inside word boundaries: each word is padded with one space on
 * both sides (scikit-learn's `char_wb` analyzer). A padded word shorter than n yields itself once.
 */
export function charNgrams(words: readonly string[], [min, max]: [number, number]): string[] {
  const grams: string[] = [];
  for (const word of words) {
    const padded = ` ${word} `;
    for (let n = min; n <= max; n++) {
      if (padded.length < n) {
        if (n === min) grams.push(padded);
        break;
      }
      for (let i = 0; i + n <= padded.length; i++) grams.push(padded.slice(i, i + n));
    }
  }
  return grams;
}

/** Fits one block: document frequencies → min_df filter → top max_features by df → sorted vocabulary. */
function fitBlock(documents: ReadonlyArray<readonly string[]>, config: NgramConfig): BlockState {
  const df = new Map<string, number>();
  for (const grams of documents) {
    for (const gram of new Set(grams)) df.set(gram, (df.get(gram) ?? 0) + 1);
  }
  const kept = [...df.entries()]
    .filter(([, count]) => count >= config.minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, config.maxFeatures)
    .map(([gram]) => gram)
    .sort();
  const n = documents.length;
  return { vocabulary: kept, idf: kept.map((gram) => Math.log((1 + n) / (1 + df.get(gram)!)) + 1) };
}

/**
 * A sparse feature row: `values[k]` is column `indices[k]`; each column at most once, no zeros. Columns
 * come block by block (word, char, lexicon), in a fixed order for a given text.
 */
export interface SparseRow {
  indices: Int32Array;
  values: Float32Array;
}

/** Counts of each vocabulary column hit by `grams` (n-grams outside the vocabulary are skipped). */
function columnCounts(
  grams: Iterable<string>,
  index: Map<string, number>,
  counts = new Map<number, number>(),
) {
  for (const gram of grams) {
    const column = index.get(gram);
    if (column !== undefined) counts.set(column, (counts.get(column) ?? 0) + 1);
  }
  return counts;
}

/**
 * Appends the L2-normalized TF-IDF entries of one block (column counts → tf · idf → unit norm) to
 * `indices`/`values`, with column numbers shifted by `offset`.
 */
function appendBlock(
  indices: number[],
  values: number[],
  offset: number,
  counts: Map<number, number>,
  idf: readonly number[],
  sublinearTf: boolean,
): void {
  const start = values.length;
  let norm = 0;
  for (const [column, count] of counts) {
    const v = (sublinearTf ? 1 + Math.log(count) : count) * idf[column];
    indices.push(offset + column);
    values.push(v);
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  for (let k = start; k < values.length; k++) values[k] /= norm;
}

/** Most words whose char n-gram columns {@link TfidfVectorizer} keeps cached (the cache is cleared when full). */
const CHAR_CACHE_WORDS = 50_000;

/** Checks that a parsed `vectorizer.json` has the shape this version writes. */
function assertVectorizerJSON(json: unknown): asserts json is VectorizerJSON {
  const j = json as Partial<VectorizerJSON> | null;
  if (!j || typeof j !== 'object') throw new VectorizerStateError('vectorizer JSON is not an object');
  if (!SUPPORTED_VECTORIZER_FORMAT_VERSIONS.includes(j.formatVersion as number)) {
    throw new VectorizerStateError(
      `vectorizer format version ${String(j.formatVersion)} is not supported (this lib-ml reads versions ${SUPPORTED_VECTORIZER_FORMAT_VERSIONS.join(' and ')})`,
    );
  }
  const blockOk = (b: unknown): boolean => {
    const s = b as BlockState | null;
    return !!s && Array.isArray(s.vocabulary) && Array.isArray(s.idf) && s.vocabulary.length === s.idf.length;
  };
  if (
    !j.config ||
    !blockOk(j.word) ||
    (j.char !== null && !blockOk(j.char)) ||
    typeof j.nDocuments !== 'number'
  ) {
    throw new VectorizerStateError(
      'vectorizer JSON is malformed: expected config, nDocuments, word and char blocks',
    );
  }
  if ((j.config.char === null) !== (j.char === null)) {
    throw new VectorizerStateError('vectorizer JSON is malformed: config.char and the char block disagree');
  }
  const negation = j.config.negation;
  if (negation !== undefined && !NEGATION_SCOPES.includes(negation)) {
    throw new VectorizerStateError(
      `vectorizer JSON has negation rules "${String(negation)}" that this lib-ml does not know (it knows ${NEGATION_SCOPES.join(', ')})`,
    );
  }
  if (j.formatVersion! < formatVersionFor(j.config)) {
    throw new VectorizerStateError(
      `vectorizer JSON is malformed: negation rules "${String(negation)}" need format version ${formatVersionFor(j.config)}, not ${j.formatVersion}`,
    );
  }
}

/**
 * Turns review texts into fixed-length feature vectors.
 *
 * Feature columns: `word.vocabulary.length` word n-grams, then `char.vocabulary.length` char n-grams,
 * then 3 features per lexicon in `lexicons`. {@link featureNames} lists them in order.
 */
export class TfidfVectorizer {
  private word: BlockState | null = null;
  private char: BlockState | null = null;
  private wordIndex = new Map<string, number>();
  private charIndex = new Map<string, number>();
  private charCache = new Map<string, Int32Array>();
  private nDocuments = 0;

  constructor(readonly config: VectorizerConfig) {}

  /** True once {@link fit} or {@link fromJSON} has run. */
  get fitted(): boolean {
    return this.word !== null;
  }

  /** Number of feature columns (the second dimension of {@link transform}'s output). */
  get nFeatures(): number {
    this.assertFitted();
    return (
      this.word!.vocabulary.length + (this.char?.vocabulary.length ?? 0) + this.lexiconFeatureNames().length
    );
  }

  /** Column names: `w:<word n-gram>`, `c:<char n-gram>`, then the lexicon feature names. Length nFeatures. */
  featureNames(): string[] {
    this.assertFitted();
    return [
      ...this.word!.vocabulary.map((g) => `w:${g}`),
      ...(this.char?.vocabulary.map((g) => `c:${g}`) ?? []),
      ...this.lexiconFeatureNames(),
    ];
  }

  /**
   * Learns the vocabularies and idf weights.
   * @param texts raw training texts (at least one).
   * @throws VectorizerStateError when `texts` is empty.
   */
  fit(texts: readonly string[]): this {
    if (texts.length === 0) throw new VectorizerStateError('cannot fit a vectorizer on zero texts');
    const analyses = texts.map((text) => this.analyze(text));
    this.word = fitBlock(
      analyses.map((a) => wordNgrams(a.tokens, this.config.word.ngramRange)),
      this.config.word,
    );
    const charConfig = this.config.char;
    this.char = charConfig
      ? fitBlock(
          analyses.map((a) => charNgrams(this.charWords(a), charConfig.ngramRange)),
          charConfig,
        )
      : null;
    this.nDocuments = texts.length;
    this.buildIndexes();
    return this;
  }

  /**
   * Feature matrix of `texts` in plain memory (what the training loop batches from).
   * @returns a row-major matrix of shape [texts.length, nFeatures].
   * @throws VectorizerStateError before fit.
   */
  transformMatrix(texts: readonly string[]): FeatureMatrix {
    return densify(this.transformSparse(texts), this.nFeatures);
  }

  /**
   * Sparse features of `texts`: the same values as {@link transformMatrix} without the zeros (a review
   * has a few hundred non-zero columns out of ~12,000), for fast serving.
   * @returns one SparseRow per text; column indices < nFeatures.
   * @throws VectorizerStateError before fit.
   */
  transformSparse(texts: readonly string[]): SparseRow[] {
    this.assertFitted();
    return texts.map((text) => this.vectorize(this.analyze(text)));
  }

  /**
   * Feature matrix of `texts`.
   * @returns a tf.Tensor2D of shape [texts.length, nFeatures] (float32); the caller disposes it.
   * @throws VectorizerStateError before fit.
   */
  transform(texts: readonly string[]): tf.Tensor2D {
    return toTensor(this.transformMatrix(texts));
  }

  /** `fit(texts)` then `transform(texts)`. */
  fitTransform(texts: readonly string[]): tf.Tensor2D {
    return this.fit(texts).transform(texts);
  }

  /** The fitted state as JSON-serializable data (`vectorizer.json`). */
  toJSON(): VectorizerJSON {
    this.assertFitted();
    return {
      formatVersion: formatVersionFor(this.config),
      config: this.config,
      nDocuments: this.nDocuments,
      word: this.word!,
      char: this.char,
    };
  }

  /**
   * Restores a vectorizer written by {@link toJSON}.
   * @throws VectorizerStateError on another format version or a malformed object.
   */
  static fromJSON(json: unknown): TfidfVectorizer {
    assertVectorizerJSON(json);
    const v = new TfidfVectorizer(json.config);
    v.word = json.word;
    v.char = json.char;
    v.nDocuments = json.nDocuments;
    v.buildIndexes();
    return v;
  }

  /** The negation scope rules this vectorizer applies ("punctuation" when its config has none). */
  get negationScope(): NegationScope {
    return this.config.negation ?? 'punctuation';
  }

  /**
   * Preprocesses one text the way this vectorizer does (lib-ml's `analyze` with {@link negationScope}):
   * use it, not `analyze(text)`, to look at the tokens a fitted vectorizer counts.
   */
  analyze(text: string): TextAnalysis {
    return analyze(text, this.negationScope);
  }

  /** The words whose char n-grams are counted: `a.words`, with "clause" rules negated words as the bare marker. */
  private charWords(a: TextAnalysis): readonly string[] {
    if (this.negationScope === 'punctuation') return a.words;
    return a.words.map((w) => (w.startsWith(NEGATION_PREFIX) ? NEGATION_PREFIX : w));
  }

  /** Sparse features of one analyzed text (see {@link transformSparse}). */
  private vectorize(a: TextAnalysis): SparseRow {
    const { sublinearTf } = this.config;
    const indices: number[] = [];
    const values: number[] = [];
    const wordCounts = columnCounts(wordNgrams(a.tokens, this.config.word.ngramRange), this.wordIndex);
    appendBlock(indices, values, 0, wordCounts, this.word!.idf, sublinearTf);
    let offset = this.word!.vocabulary.length;
    if (this.char && this.config.char) {
      const charCounts = new Map<number, number>();
      for (const word of this.charWords(a)) {
        for (const column of this.charColumns(word))
          charCounts.set(column, (charCounts.get(column) ?? 0) + 1);
      }
      appendBlock(indices, values, offset, charCounts, this.char.idf, sublinearTf);
      offset += this.char.vocabulary.length;
    }
    if (this.config.lexicons.length) {
      lexiconFeatures(a, this.config.lexicons).forEach((v, i) => {
        if (v !== 0) {
          indices.push(offset + i);
          values.push(v);
        }
      });
    }
    return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
  }

  /** Char-block columns of one word's char n-grams (repeats included), cached per word. */
  private charColumns(word: string): Int32Array {
    let columns = this.charCache.get(word);
    if (!columns) {
      const counts = columnCounts(charNgrams([word], this.config.char!.ngramRange), this.charIndex);
      columns = Int32Array.from([...counts].flatMap(([column, count]) => Array<number>(count).fill(column)));
      if (this.charCache.size >= CHAR_CACHE_WORDS) this.charCache.clear();
      this.charCache.set(word, columns);
    }
    return columns;
  }

  private lexiconFeatureNames(): string[] {
    return this.config.lexicons.flatMap((name) => LEXICON_FEATURES[name]);
  }

  private buildIndexes(): void {
    this.charCache.clear();
    this.wordIndex = new Map(this.word!.vocabulary.map((g, i) => [g, i]));
    this.charIndex = new Map(this.char?.vocabulary.map((g, i) => [g, i]) ?? []);
  }

  private assertFitted(): void {
    if (!this.word)
      throw new VectorizerStateError('vectorizer is not fitted: call fit() or fromJSON() first');
  }
}
