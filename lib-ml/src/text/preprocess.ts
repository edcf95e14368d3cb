/**
 * Text preprocessing: the single code path from a raw review to tokens, shared by training and serving.
 *
 * Steps, in order (see {@link preprocess}):
 *  1. {@link normalizeText}: Unicode NFKC, HTML tags removed and entities decoded, lowercase, curly
 *     apostrophes folded, contractions expanded ("n't" → " not", "'re" → " are", ...).
 *  2. {@link tokenize}: words (letters/digits, inner apostrophes dropped) and punctuation marks as tokens.
 *  3. {@link markNegation}: every word after a negation word, up to the next punctuation mark, gets the
 *     `NOT_` prefix (Das & Chen 2001; Pang, Lee & Vaithyanathan 2002). Negation words stay as tokens.
 *  4. Stopwords removed (the `stopword` package's English list, minus negation words), punctuation
 *     dropped, words stemmed with the Porter stemmer (`stemmer` package); the prefix is kept.
 */
import { decodeHTML } from 'entities';
import { eng as englishStopwords } from 'stopword';
import { stemmer } from 'stemmer';
import striptags from 'striptags';

/** Prefix given to tokens inside a negation scope. */
export const NEGATION_PREFIX = 'NOT_';

/** Words that open a negation scope. They are never removed as stopwords. */
export const NEGATION_WORDS: ReadonlySet<string> = new Set([
  'not',
  'no',
  'never',
  'nor',
  'none',
  'nobody',
  'nothing',
  'nowhere',
  'neither',
  'without',
  'hardly',
  'barely',
  'cannot',
]);

/** English stopwords used by {@link preprocess}: the `stopword` package's list without negation words. */
export const STOPWORDS: ReadonlySet<string> = new Set(englishStopwords.filter((w) => !NEGATION_WORDS.has(w)));

/**
 * Contractions expanded by {@link normalizeText}, applied in this order to lowercase text with straight
 * apostrophes. Irregular forms come before the generic "n't" suffix rule.
 */
const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bwon't\b/g, 'will not'],
  [/\bcan't\b/g, 'can not'],
  [/\bshan't\b/g, 'shall not'],
  [/\bain't\b/g, 'is not'],
  [/n't\b/g, ' not'],
  [/'re\b/g, ' are'],
  [/'ve\b/g, ' have'],
  [/'ll\b/g, ' will'],
  [/'d\b/g, ' would'],
  [/'m\b/g, ' am'],
  [/\b(it|that|there|what|he|she|who|here|where|how)'s\b/g, '$1 is'],
  [/\blet's\b/g, 'let us'],
];

/** Characters used as apostrophes in reviews: ‘ ’ ʼ ` ´ (folded to "'"). */
const APOSTROPHES = /[\u2018\u2019\u02bc`\u00b4]/g;

/** Common apostrophe-less spellings of negated auxiliaries ("dont", "wasnt") → "<aux> not". */
const BARE_NEGATED_AUXILIARIES =
  /\b(do|does|did|is|was|were|are|has|have|had|could|would|should|must|need)nt\b/g;

/**
 * Normalizes raw review text.
 *
 * @param text any string (empty allowed).
 * @returns NFKC-normalized, lowercased text with HTML removed, entities decoded, curly quotes folded to
 *   straight ones and English contractions expanded. Whitespace runs are collapsed to one space.
 * @example normalizeText("The <b>food</b> wasn’t good") === "the food was not good"
 */
export function normalizeText(text: string): string {
  // Apostrophe look-alikes are folded before NFKC, which would turn "´" into a space + combining accent.
  let out = decodeHTML(striptags(text.replace(APOSTROPHES, "'").normalize('NFKC'), [], ' '));
  out = out.toLowerCase().replace(APOSTROPHES, "'");
  for (const [pattern, replacement] of CONTRACTIONS) out = out.replace(pattern, replacement);
  out = out.replace(BARE_NEGATED_AUXILIARIES, '$1 not');
  return out.replace(/\s+/g, ' ').trim();
}

/** Token pattern: a word (letters, digits, inner apostrophes) or one punctuation mark. */
const TOKEN = /[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|[.,!?;:()[\]{}"]/gu;

/** True for tokens that are punctuation marks (they end negation scopes). */
export function isPunctuation(token: string): boolean {
  return !/[\p{L}\p{N}]/u.test(token);
}

/**
 * Splits normalized text into word and punctuation tokens. Inner apostrophes are removed from words
 * ("chef's" → "chefs"); characters that are neither word characters nor sentence punctuation are dropped.
 *
 * @param normalized output of {@link normalizeText}.
 * @returns tokens in text order.
 */
export function tokenize(normalized: string): string[] {
  return (normalized.match(TOKEN) ?? []).map((t) => t.replace(/'/g, ''));
}

/**
 * Marks negation scope: every word token after a negation word and before the next punctuation token
 * gets {@link NEGATION_PREFIX}. Negation words themselves and punctuation are unchanged.
 *
 * @param tokens output of {@link tokenize}.
 * @returns a new array of the same length.
 * @example markNegation(["not","good",".","great"]) → ["not","NOT_good",".","great"]
 */
export function markNegation(tokens: readonly string[]): string[] {
  let inScope = false;
  return tokens.map((token) => {
    if (isPunctuation(token)) {
      inScope = false;
      return token;
    }
    if (NEGATION_WORDS.has(token)) {
      inScope = true;
      return token;
    }
    return inScope ? NEGATION_PREFIX + token : token;
  });
}

/** Stems a token, keeping a {@link NEGATION_PREFIX} in front of the stem. */
export function stemToken(token: string): string {
  return token.startsWith(NEGATION_PREFIX)
    ? NEGATION_PREFIX + stemmer(token.slice(NEGATION_PREFIX.length))
    : stemmer(token);
}

/** The base word of a token: without {@link NEGATION_PREFIX}. */
export function baseWord(token: string): string {
  return token.startsWith(NEGATION_PREFIX) ? token.slice(NEGATION_PREFIX.length) : token;
}

/** The intermediate forms of one text, as produced by {@link analyze}. */
export interface TextAnalysis {
  /** Output of {@link normalizeText}. */
  normalized: string;
  /** Words after negation marking, before stopword removal and stemming (punctuation removed). */
  words: string[];
  /** Final tokens: stopwords removed, stemmed, negation-marked. */
  tokens: string[];
}

/**
 * Runs the whole preprocessing chain and keeps the intermediate forms (the vectorizer uses `tokens`
 * for word n-grams, `words` for character n-grams and AFINN, `normalized` for VADER).
 */
export function analyze(text: string): TextAnalysis {
  const normalized = normalizeText(text);
  const marked = markNegation(tokenize(normalized));
  const words = marked.filter((t) => !isPunctuation(t));
  const tokens = words.filter((t) => !STOPWORDS.has(baseWord(t))).map(stemToken);
  return { normalized, words, tokens };
}

/**
 * Preprocesses one review into the tokens the vectorizer counts.
 *
 * @param text raw review text.
 * @returns tokens: stemmed, stopwords removed, negation scope marked with `NOT_`.
 * @example preprocess("The food wasn't good!") → ["food", "not", "NOT_good"]
 */
export function preprocess(text: string): string[] {
  return analyze(text).tokens;
}
