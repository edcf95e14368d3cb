/**
 * Text preprocessing: the single code path from a raw review to tokens, shared by training and serving.
 *
 * Steps, in order (see {@link preprocess}):
 *  1. {@link normalizeText}: Unicode NFKC, HTML tags removed and entities decoded, lowercase, curly
 *     apostrophes folded, contractions expanded ("n't" → " not", "'re" → " are", ...).
 *  2. {@link tokenize}: words (letters/digits, inner apostrophes dropped) and punctuation marks as tokens.
 *  3. {@link markNegation}: every word inside a negation scope gets the `NOT_` prefix (Das & Chen 2001;
 *     Pang, Lee & Vaithyanathan 2002). Negation words stay as tokens. A scope runs from a negation word to
 *     the next punctuation mark (`"punctuation"` rules, the default) or, with the `"clause"` rules, also
 *     ends at clause boundaries and skips negation words that do not negate ({@link negationRoles}).
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
 * How negation scopes are delimited (the vectorizer's `negation` setting; see {@link negationRoles}):
 * - `"punctuation"`: a negation word opens a scope that runs to the next punctuation mark (Das & Chen
 *   2001; Pang, Lee & Vaithyanathan 2002). Vectorizers saved without a `negation` setting use it.
 * - `"clause"`: scopes also end at clause boundaries, and some negation words do not negate (set
 *   phrases, superlatives, double negation); see {@link negationRoles}.
 */
export type NegationScope = 'punctuation' | 'clause';

/** Every {@link NegationScope}; the first is the rule set of vectorizers saved without one. */
export const NEGATION_SCOPES: readonly NegationScope[] = ['punctuation', 'clause'];

/**
 * Words that end a negation scope under the `"clause"` rules: contrast conjunctions and adverbs, which
 * start a clause of their own ("not fancy but the food is great").
 */
export const CLAUSE_BOUNDARY_WORDS: ReadonlySet<string> = new Set([
  'but',
  'however',
  'although',
  'though',
  'yet',
  'except',
  'whereas',
  'nevertheless',
  'nonetheless',
]);

/**
 * Phrases in which a negation word does not negate, under the `"clause"` rules: "not only X but also Y",
 * "nothing but praise", "can not wait to go back" (how "can't wait" reads after contraction expansion).
 * Each phrase holds exactly one {@link NEGATION_WORDS} word; tokens are compared after normalization.
 */
export const NON_NEGATING_PHRASES: ReadonlyArray<readonly string[]> = [
  ['not', 'only'],
  ['nothing', 'but'],
  ['can', 'not', 'wait'],
  ['could', 'not', 'wait'],
  ['cannot', 'wait'],
];

/**
 * Comparatives that turn a negation of possibility or experience into a superlative under the
 * `"clause"` rules: "never had better", "no better place", "could not be happier", "cannot imagine better",
 * "never been more insulted" (see {@link negationRoles}).
 */
export const SUPERLATIVE_COMPARATIVES: ReadonlySet<string> = new Set([
  'better',
  'more',
  'happier',
  'nicer',
  'tastier',
  'fresher',
  'friendlier',
  'greater',
  'worse',
]);

/** Negation words whose scope reads as a superlative when it holds a {@link SUPERLATIVE_COMPARATIVES} word. */
const SUPERLATIVE_NEGATORS: ReadonlySet<string> = new Set([
  'never',
  'no',
  'nothing',
  'nobody',
  'nowhere',
  'none',
  'cannot',
]);

/** Modal verbs that make a following "not" a negation of possibility ("could not be happier"). */
const MODALS: ReadonlySet<string> = new Set(['can', 'could']);

/**
 * Verbs of failure. Under the `"clause"` rules one inside a negation scope is negated and ends the scope:
 * the double negation "never fails to impress" leaves "impress" unnegated.
 */
export const FAILURE_VERBS: ReadonlySet<string> = new Set(['fail', 'fails', 'failed', 'failing']);

/**
 * The part a token plays in negation:
 * - `"negator"`: a negation word that negates (it stays a token);
 * - `"inert"`: a negation word that does not negate under the `"clause"` rules ("not only", "could not be
 *   happier"); {@link analyze} drops it, as it carries no negation;
 * - `"negated"`: a word inside a negation scope ({@link NEGATION_PREFIX} is added to it);
 * - `"plain"`: any other token, punctuation included.
 */
export type NegationRole = 'plain' | 'negator' | 'inert' | 'negated';

/** True when the negation word at tokens[i] is part of a {@link NON_NEGATING_PHRASES} phrase there. */
function inNonNegatingPhrase(tokens: readonly string[], i: number): boolean {
  return NON_NEGATING_PHRASES.some((phrase) => {
    const start = i - phrase.findIndex((w) => NEGATION_WORDS.has(w));
    return phrase.every((w, k) => tokens[start + k] === w);
  });
}

/**
 * The negation role of every token.
 *
 * With `"punctuation"` scopes, every negation word is a negator and its scope runs to the next
 * punctuation token (another negation word inside it stays a negator and the scope goes on).
 *
 * With `"clause"` scopes (rules of the kind surveyed by Wiegand et al., "A survey on the role of negation
 * in sentiment analysis", 2010, and Councill, McDonald & Velikovich, 2010):
 *  1. a scope ends before punctuation, a {@link CLAUSE_BOUNDARY_WORDS} word ("but") or the next negation
 *     word (which is handled on its own);
 *  2. a negation word inside a {@link NON_NEGATING_PHRASES} phrase is inert ("not only", "can not wait");
 *  3. a scope of "never", "no", "nothing", "nobody", "nowhere", "none", "cannot", or of "not" right after
 *     "can"/"could", that holds a {@link SUPERLATIVE_COMPARATIVES} word is a superlative: its negation
 *     word is inert and nothing in it is negated ("I have never had better food");
 *  4. a {@link FAILURE_VERBS} word in a scope is negated and ends the scope (double negation: "never
 *     fails to impress").
 *
 * @param tokens output of {@link tokenize}.
 * @param scope the scope rules (default `"punctuation"`).
 * @returns one role per token (same length as `tokens`).
 * @example negationRoles(["not","fancy","but","good"], "clause") → ["negator","negated","plain","plain"]
 */
export function negationRoles(
  tokens: readonly string[],
  scope: NegationScope = 'punctuation',
): NegationRole[] {
  const roles = tokens.map((): NegationRole => 'plain');
  if (scope === 'punctuation') {
    let inScope = false;
    tokens.forEach((token, i) => {
      if (isPunctuation(token)) inScope = false;
      else if (NEGATION_WORDS.has(token)) {
        inScope = true;
        roles[i] = 'negator';
      } else if (inScope) roles[i] = 'negated';
    });
    return roles;
  }
  for (let i = 0; i < tokens.length; i++) {
    const negator = tokens[i];
    if (!NEGATION_WORDS.has(negator)) continue;
    if (inNonNegatingPhrase(tokens, i)) {
      roles[i] = 'inert';
      continue;
    }
    let end = i + 1;
    while (
      end < tokens.length &&
      !isPunctuation(tokens[end]) &&
      !CLAUSE_BOUNDARY_WORDS.has(tokens[end]) &&
      !NEGATION_WORDS.has(tokens[end])
    ) {
      end++;
    }
    const superlative =
      (SUPERLATIVE_NEGATORS.has(negator) || (negator === 'not' && MODALS.has(tokens[i - 1]))) &&
      tokens.slice(i + 1, end).some((t) => SUPERLATIVE_COMPARATIVES.has(t));
    if (superlative) {
      roles[i] = 'inert';
      continue;
    }
    roles[i] = 'negator';
    for (let k = i + 1; k < end; k++) {
      roles[k] = 'negated';
      if (FAILURE_VERBS.has(tokens[k])) break;
    }
  }
  return roles;
}

/**
 * Marks negation scope: every token of role `"negated"` (see {@link negationRoles}) gets
 * {@link NEGATION_PREFIX}; all other tokens, negation words and punctuation included, are unchanged.
 *
 * @param tokens output of {@link tokenize}.
 * @param scope the scope rules (default `"punctuation"`).
 * @returns a new array of the same length.
 * @example markNegation(["not","good",".","great"]) → ["not","NOT_good",".","great"]
 * @example markNegation(["not","fancy","but","good"], "clause") → ["not","NOT_fancy","but","good"]
 */
export function markNegation(tokens: readonly string[], scope: NegationScope = 'punctuation'): string[] {
  const roles = negationRoles(tokens, scope);
  return tokens.map((token, i) => (roles[i] === 'negated' ? NEGATION_PREFIX + token : token));
}

/**
 * Negation words that VADER (./vectorizer/vader.ts) does not treat as negations; under the `"clause"`
 * rules {@link analyze} shows them to VADER as "not" when they negate something ("no complaints").
 */
export const VADER_UNKNOWN_NEGATORS: ReadonlySet<string> = new Set(['no', 'nobody', 'hardly', 'barely']);

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
  /**
   * The text VADER scores: `normalized`, except under the `"clause"` rules, where inert negation words
   * are removed and {@link VADER_UNKNOWN_NEGATORS} that negate are replaced by "not".
   */
  vaderText: string;
  /** Words after negation marking, before stopword removal and stemming (punctuation and inert negation words removed). */
  words: string[];
  /** Final tokens: stopwords removed, stemmed, negation-marked. */
  tokens: string[];
}

/**
 * `normalized` with the tokens at some positions replaced (`null` = removed); `spans` are the
 * {@link TOKEN} matches of `normalized`, `replacements` is indexed like them.
 */
function rewriteTokens(
  normalized: string,
  spans: readonly RegExpMatchArray[],
  replacements: ReadonlyMap<number, string | null>,
): string {
  let out = '';
  let last = 0;
  spans.forEach((match, i) => {
    if (!replacements.has(i)) return;
    out += normalized.slice(last, match.index) + (replacements.get(i) ?? '');
    last = match.index! + match[0].length;
  });
  return (out + normalized.slice(last)).replace(/\s+/g, ' ').trim();
}

/**
 * Runs the whole preprocessing chain and keeps the intermediate forms (the vectorizer uses `tokens` for
 * word n-grams, `words` for character n-grams and AFINN, `vaderText` for VADER). A fitted vectorizer's
 * own rules: `vectorizer.analyze(text)`.
 * @param scope negation scope rules (see {@link negationRoles}); default and `undefined`: `"punctuation"`.
 */
export function analyze(text: string, scope: NegationScope = 'punctuation'): TextAnalysis {
  const normalized = normalizeText(text);
  const spans = [...normalized.matchAll(TOKEN)];
  const raw = spans.map((m) => m[0].replace(/'/g, ''));
  const roles = negationRoles(raw, scope);
  const replacements = new Map<number, string | null>();
  const words: string[] = [];
  raw.forEach((token, i) => {
    if (roles[i] === 'inert') replacements.set(i, null);
    else if (roles[i] === 'negator' && roles[i + 1] === 'negated' && scope === 'clause') {
      if (VADER_UNKNOWN_NEGATORS.has(token)) replacements.set(i, 'not');
    }
    if (roles[i] !== 'inert' && !isPunctuation(token)) {
      words.push(roles[i] === 'negated' ? NEGATION_PREFIX + token : token);
    }
  });
  const tokens = words.filter((t) => !STOPWORDS.has(baseWord(t))).map(stemToken);
  const vaderText = replacements.size ? rewriteTokens(normalized, spans, replacements) : normalized;
  return { normalized, vaderText, words, tokens };
}

/**
 * Preprocesses one review into the tokens the vectorizer counts (`"punctuation"` negation rules; see
 * {@link analyze} for others).
 *
 * @param text raw review text.
 * @returns tokens: stemmed, stopwords removed, negation scope marked with `NOT_`.
 * @example preprocess("The food wasn't good!") → ["food", "not", "NOT_good"]
 */
export function preprocess(text: string): string[] {
  return analyze(text).tokens;
}
