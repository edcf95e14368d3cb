/**
 * Out-of-vocabulary (OOV) rate: how much of a review the vectorizer does not know. A model trained on
 * restaurant reviews that suddenly gets movie reviews, another language or spam sees many unknown words
 * long before anyone labels a prediction wrong, so the OOV rate is an input-drift signal that needs no
 * labels.
 *
 * Definition. The review's word tokens are `analyze(text, <the vectorizer's negation scope>).tokens`
 * (./text/preprocess.ts: normalized, negation-marked, stopwords removed, stemmed), the same tokens the
 * word n-gram block counts. A token is
 * known when it is a word of some n-gram of the vectorizer's word vocabulary (with n-grams 1–2 and the
 * default settings: a kept unigram, or a word of a kept bigram). The OOV rate is the number of token
 * occurrences that are not known divided by the number of token occurrences, in [0, 1]. A text without
 * any token (empty, emoji only, nothing but stopwords) has no OOV rate (null) and is left out of the
 * histograms: it has no words to be unknown, and model-service counts texts without any known feature
 * in `model_predictions_total{sentiment="unknown"}` already. Character n-grams and lexicon features are
 * not considered: they make almost every Latin-script word partly "known" and would hide the shift.
 */
import { analyze } from '../text/preprocess.js';
import type { TfidfVectorizer } from '../vectorizer/tfidf.js';

/** Known words per fitted vectorizer (a vectorizer's vocabulary never changes after fit/fromJSON). */
const knownWordsCache = new WeakMap<TfidfVectorizer, ReadonlySet<string>>();

/**
 * The words of the vectorizer's word vocabulary: every space-separated word of every word n-gram.
 * @throws VectorizerStateError when the vectorizer is not fitted.
 */
export function knownWords(vectorizer: TfidfVectorizer): ReadonlySet<string> {
  let words = knownWordsCache.get(vectorizer);
  if (!words) {
    words = new Set(vectorizer.toJSON().word.vocabulary.flatMap((gram) => gram.split(' ')));
    knownWordsCache.set(vectorizer, words);
  }
  return words;
}

/**
 * The OOV rate of already preprocessed tokens.
 * @param tokens output of `preprocess`/`analyze(...).tokens`.
 * @returns unknown occurrences / all occurrences in [0, 1], or null for no tokens.
 */
export function oovRateOfTokens(known: ReadonlySet<string>, tokens: readonly string[]): number | null {
  if (tokens.length === 0) return null;
  let unknown = 0;
  for (const token of tokens) if (!known.has(token)) unknown++;
  return unknown / tokens.length;
}

/**
 * The OOV rate of one raw review (see the module documentation for the definition).
 * @returns a number in [0, 1], or null when the text has no word token.
 * @throws VectorizerStateError when the vectorizer is not fitted.
 * @example with the word vocabulary ["food", "great food"], "Great food, awful service" has the tokens
 *   ["great", "food", "aw", "servic"], of which "aw" and "servic" are unknown: 2 of 4 → 0.5.
 */
export function oovRate(vectorizer: TfidfVectorizer, text: string): number | null {
  return oovRateOfTokens(knownWords(vectorizer), wordTokens(vectorizer, text));
}

/** The tokens the vectorizer's word block counts for `text` (with its negation scope rules). */
function wordTokens(vectorizer: TfidfVectorizer, text: string): string[] {
  return analyze(text, vectorizer.config.negation).tokens;
}

/**
 * OOV rates of several reviews.
 * @returns texts.length entries, null where a text has no word token.
 */
export function oovRates(vectorizer: TfidfVectorizer, texts: readonly string[]): Array<number | null> {
  const known = knownWords(vectorizer);
  return texts.map((text) => oovRateOfTokens(known, wordTokens(vectorizer, text)));
}
