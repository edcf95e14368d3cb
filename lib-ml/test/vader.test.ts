import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import { normalizeText } from '../src/text/preprocess.js';
import { vaderPolarity, vaderTokens } from '../src/vectorizer/vader.js';

const require = createRequire(import.meta.url);
const reference: {
  SentimentIntensityAnalyzer: { polarity_scores(text: string): unknown };
} = require('vader-sentiment');

describe('vaderPolarity', () => {
  it('gives exactly the vader-sentiment package scores on all 3000 UCI sentences, raw and normalized', () => {
    let compared = 0;
    for (const set of ['yelp', 'amazon', 'imdb']) {
      for (const { text } of require(`sentiment/test/fixtures/${set}.json`) as Array<{ text: string }>) {
        for (const t of [text, normalizeText(text)]) {
          expect(vaderPolarity(t)).toEqual(reference.SentimentIntensityAnalyzer.polarity_scores(t));
          compared++;
        }
      }
    }
    expect(compared).toBe(6006);
  });

  it.each([
    'The food is not good!!!',
    'kind of good',
    'At least it was cheap',
    'NOT BAD AT ALL',
    'Great, but the service was AWFUL?? Why???',
    ':) :( <3',
    'least good',
    'very least good',
    'it was never this bad',
    'cut the mustard',
    'sort of ok',
    'constructor __proto__ toString',
    '',
    '😀 great 😀',
  ])('matches the package on %j', (text) => {
    expect(vaderPolarity(text)).toEqual(reference.SentimentIntensityAnalyzer.polarity_scores(text));
  });

  it('gives known values', () => {
    expect(vaderPolarity('The food was great!')).toEqual({
      neg: 0,
      neu: 0.406,
      pos: 0.594,
      compound: 0.6588,
    });
    // Only one run from PUNC_LIST is stripped: '!"' is not in it, so '"Great!"' stays whole.
    expect(vaderTokens('"Great!" said (she), wow.')).toEqual(['"Great!"', 'said', '(she),', 'wow']);
    expect(vaderTokens('wow!! ok... "yes" -no')).toEqual(['wow', 'ok...', '"yes"', 'no']);
  });
});
