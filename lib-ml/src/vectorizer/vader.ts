/**
 * VADER sentiment intensity (Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment
 * Analysis of Social Media Text", ICWSM 2014): a port of the `vader-sentiment` npm package (1.1.3, the
 * JavaScript port of the reference implementation) that gives the same scores, using that package's
 * lexicon file `vader_lexicon.txt`.
 *
 * Why a port: the package rebuilds a dictionary of (punctuation × word) strings for every text to strip
 * punctuation from tokens, which made it ~40% of model-service's CPU per request. Here that step is a
 * direct check of each token's leading/trailing punctuation, which is equivalent because the words it
 * maps to never contain punctuation. Everything else follows the package's rules and constants step by
 * step; a test checks identical output on all 3000 sentences of the UCI set and on edge cases.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Token → mean valence, from the package's vader_lexicon.txt (token TAB mean TAB sd TAB ratings). */
const LEXICON: ReadonlyMap<string, number> = new Map(
  readFileSync(
    path.join(path.dirname(require.resolve('vader-sentiment/package.json')), 'vader_lexicon.txt'),
    'utf8',
  )
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [token, mean] = line.split('\t');
      return [token, Number(mean)] as const;
    }),
);

const B_INCR = 0.293;
const B_DECR = -0.293;
const C_INCR = 0.733;
const N_SCALAR = -0.74;
/** Characters removed before splitting into words (Python's string.punctuation). */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
const PUNC_LIST = new Set([
  '.',
  '!',
  '?',
  ',',
  ';',
  ':',
  '-',
  "'",
  '"',
  '!!',
  '!!!',
  '??',
  '???',
  '?!?',
  '!?!',
  '?!?!',
  '!?!?',
]);
const NEGATE = new Set([
  'aint', 'arent', 'cannot', 'cant', 'couldnt', 'darent', 'didnt', 'doesnt', "ain't", "aren't", "can't",
  "couldn't", "daren't", "didn't", "doesn't", 'dont', 'hadnt', 'hasnt', 'havent', 'isnt', 'mightnt', 'mustnt',
  'neither', "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", 'neednt', "needn't",
  'never', 'none', 'nope', 'nor', 'not', 'nothing', 'nowhere', 'oughtnt', 'shant', 'shouldnt', 'uhuh', 'wasnt',
  'werent', "oughtn't", "shan't", "shouldn't", 'uh-uh', "wasn't", "weren't", 'without', 'wont', 'wouldnt',
  "won't", "wouldn't", 'rarely', 'seldom', 'despite',
]); // prettier-ignore
const BOOSTERS: ReadonlyMap<string, number> = new Map([
  ...[
    'absolutely', 'amazingly', 'awfully', 'completely', 'considerably', 'decidedly', 'deeply', 'effing',
    'enormously', 'entirely', 'especially', 'exceptionally', 'extremely', 'fabulously', 'flipping', 'flippin',
    'fricking', 'frickin', 'frigging', 'friggin', 'fully', 'fucking', 'greatly', 'hella', 'highly', 'hugely',
    'incredibly', 'intensely', 'majorly', 'more', 'most', 'particularly', 'purely', 'quite', 'really',
    'remarkably', 'so', 'substantially', 'thoroughly', 'totally', 'tremendously', 'uber', 'unbelievably',
    'unusually', 'utterly', 'very',
  ].map((w) => [w, B_INCR] as const),
  ...[
    'almost', 'barely', 'hardly', 'just enough', 'kind of', 'kinda', 'kindof', 'kind-of', 'less', 'little',
    'marginally', 'occasionally', 'partly', 'scarcely', 'slightly', 'somewhat', 'sort of', 'sorta', 'sortof',
    'sort-of',
  ].map((w) => [w, B_DECR] as const),
]); // prettier-ignore
const IDIOMS: ReadonlyMap<string, number> = new Map([
  ['the shit', 3],
  ['the bomb', 3],
  ['bad ass', 1.5],
  ['yeah right', -2],
  ['cut the mustard', 2],
  ['kiss of death', -1.5],
  ['hand to mouth', -2],
]);

/** Python-style str.isupper(): at least one uppercase letter and no lowercase letter. */
function isUpper(word: string): boolean {
  return /^[^a-z]*[A-Z]+[^a-z]*$/.test(word);
}

/** True when `word` is a negation (VADER's `negated([word])`). */
function negated(word: string): boolean {
  return NEGATE.has(word) || word.includes("n't");
}

/**
 * VADER's tokens: whitespace-separated tokens longer than one character, with one run of leading or
 * trailing punctuation from PUNC_LIST removed when what remains is a word of the punctuation-free text.
 */
export function vaderTokens(text: string): string[] {
  const words = new Set(
    text
      .replace(PUNCTUATION, '')
      .split(/\s/)
      .filter((w) => w.length > 1),
  );
  return text
    .split(/\s/)
    .filter((t) => t.length > 1)
    .map((token) => {
      const lead = /^[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+/.exec(token)?.[0] ?? '';
      if (lead && PUNC_LIST.has(lead) && words.has(token.slice(lead.length))) return token.slice(lead.length);
      const trail = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/.exec(token)?.[0] ?? '';
      if (trail && PUNC_LIST.has(trail) && words.has(token.slice(0, -trail.length))) {
        return token.slice(0, -trail.length);
      }
      return token;
    });
}

function scalarIncDec(word: string, valence: number, isCapDiff: boolean): number {
  const booster = BOOSTERS.get(word.toLowerCase());
  if (booster === undefined) return 0;
  let scalar = valence < 0 ? -booster : booster;
  if (isCapDiff && isUpper(word)) scalar += valence > 0 ? C_INCR : -C_INCR;
  return scalar;
}

function neverCheck(valence: number, words: readonly string[], startI: number, index: number): number {
  if (startI === 0 && negated(words[index - 1])) return valence * N_SCALAR;
  if (startI === 1) {
    if (words[index - 2] === 'never' && (words[index - 1] === 'so' || words[index - 1] === 'this'))
      return valence * 1.5;
    if (negated(words[index - 2])) return valence * N_SCALAR;
  }
  if (startI === 2) {
    if (
      (words[index - 3] === 'never' && (words[index - 2] === 'so' || words[index - 2] === 'this')) ||
      words[index - 1] === 'so' ||
      words[index - 1] === 'this'
    ) {
      return valence * 1.25;
    }
    if (negated(words[index - 3])) return valence * N_SCALAR;
  }
  return valence;
}

function idiomsCheck(valence: number, words: readonly string[], index: number): number {
  const w = (i: number) => String(words[i]); // the package interpolates undefined as "undefined"
  const sequences = [
    `${w(index - 1)} ${w(index)}`,
    `${w(index - 2)} ${w(index - 1)} ${w(index)}`,
    `${w(index - 2)} ${w(index - 1)}`,
    `${w(index - 3)} ${w(index - 2)} ${w(index - 1)}`,
    `${w(index - 3)} ${w(index - 2)}`,
  ];
  for (const sequence of sequences) {
    const idiom = IDIOMS.get(sequence);
    if (idiom !== undefined) {
      valence = idiom;
      break;
    }
  }
  if (words.length - 1 > index) valence = IDIOMS.get(`${w(index)} ${w(index + 1)}`) ?? valence;
  if (words.length - 1 > index + 1)
    valence = IDIOMS.get(`${w(index)} ${w(index + 1)} ${w(index + 2)}`) ?? valence;
  if (BOOSTERS.has(sequences[4]) || BOOSTERS.has(sequences[2])) valence += B_DECR;
  return valence;
}

function leastCheck(valence: number, words: readonly string[], index: number): number {
  const previous = words[index - 1]?.toLowerCase();
  if (index > 1 && previous === 'least' && !LEXICON.has(previous)) {
    const before = words[index - 2].toLowerCase();
    return before !== 'at' && before !== 'very' ? valence * N_SCALAR : valence;
  }
  if (index > 0 && previous === 'least' && !LEXICON.has(previous)) return valence * N_SCALAR;
  return valence;
}

function sentimentValence(words: readonly string[], isCapDiff: boolean, index: number): number {
  const item = words[index];
  const lower = item.toLowerCase();
  let valence = LEXICON.get(lower);
  if (valence === undefined) return 0;
  if (isUpper(item) && isCapDiff) valence += valence > 0 ? C_INCR : -C_INCR;
  for (let startI = 0; startI < 3; startI++) {
    if (index > startI && !LEXICON.has(words[index - (startI + 1)].toLowerCase())) {
      let s = scalarIncDec(words[index - (startI + 1)], valence, isCapDiff);
      if (startI === 1 && s !== 0) s *= 0.95;
      else if (startI === 2 && s !== 0) s *= 0.9;
      valence = neverCheck(valence + s, words, startI, index);
      if (startI === 2) valence = idiomsCheck(valence, words, index);
    }
  }
  return leastCheck(valence, words, index);
}

/** VADER's polarity scores. */
export interface VaderScores {
  /** Proportions of negative, neutral and positive weight (3 decimals). */
  neg: number;
  neu: number;
  pos: number;
  /** Normalized sum of valences in [-1, 1] (4 decimals). */
  compound: number;
}

/**
 * Polarity scores of a text, as `vader-sentiment`'s `SentimentIntensityAnalyzer.polarity_scores`.
 * @returns {neg, neu, pos, compound}; all 0 for a text without tokens.
 */
export function vaderPolarity(text: string): VaderScores {
  const words = vaderTokens(text);
  const upper = words.filter(isUpper).length;
  const isCapDiff = words.length - upper > 0 && words.length - upper < words.length;
  const sentiments = words.map((item, i) => {
    const lower = item.toLowerCase();
    if (
      (i < words.length - 1 && lower === 'kind' && words[i + 1].toLowerCase() === 'of') ||
      BOOSTERS.has(lower)
    ) {
      return 0;
    }
    return sentimentValence(words, isCapDiff, i);
  });
  let butIndex = words.indexOf('but');
  if (butIndex === -1) butIndex = words.indexOf('BUT');
  if (butIndex !== -1) {
    sentiments.forEach((s, i) => {
      if (i < butIndex) sentiments[i] = s * 0.5;
      else if (i > butIndex) sentiments[i] = s * 1.5;
    });
  }
  if (sentiments.length === 0) return { neg: 0, neu: 0, pos: 0, compound: 0 };

  let sum = sentiments.reduce((a, b) => a + b, 0);
  const exclamations = Math.min((text.match(/!/g) ?? []).length, 4);
  const questions = (text.match(/\?/g) ?? []).length;
  const emphasis = exclamations * 0.292 + (questions > 1 ? (questions <= 3 ? questions * 0.18 : 0.96) : 0);
  if (sum > 0) sum += emphasis;
  else if (sum < 0) sum -= emphasis;
  const compound = Math.max(-1, Math.min(1, sum / Math.sqrt(sum * sum + 15)));

  let posSum = 0;
  let negSum = 0;
  let neutral = 0;
  for (const s of sentiments) {
    if (s > 0) posSum += s + 1;
    else if (s < 0) negSum += s - 1;
    else neutral += 1;
  }
  if (posSum > Math.abs(negSum)) posSum += emphasis;
  else if (posSum < Math.abs(negSum)) negSum -= emphasis;
  const total = posSum + Math.abs(negSum) + neutral;
  const round = (x: number, digits: number) => parseFloat(x.toFixed(digits));
  return {
    neg: round(Math.abs(negSum / total), 3),
    neu: round(Math.abs(neutral / total), 3),
    pos: round(Math.abs(posSum / total), 3),
    compound: round(compound, 4),
  };
}
