/** The result page's reading of a prediction: certainty bands and honest rounding of chances. */
import { describe, expect, it } from '@jest/globals';
import { certaintyOf, formatChance, verdictOf } from '../src/http/verdict.js';

describe('formatChance', () => {
  it.each([
    [1, 'over 99%'],
    [0.9999, 'over 99%'],
    [0.998, 'over 99%'],
    [0.995, 'over 99%'],
    [0.9949, '99%'],
    [0.93, '93%'],
    [0.8, '80%'],
    [0.505, '51%'],
    [0.5049, 'just over 50%'],
    [0.5001, 'just over 50%'],
    [0.5, '50%'],
    [0.3, '30%'],
    [0.004, 'under 1%'],
    [0, '0%'],
  ])('%d reads "%s"', (p, text) => {
    expect(formatChance(p)).toBe(text);
  });

  it.each([-0.01, 1.01, Number.NaN])('refuses %d', (p) => {
    expect(() => formatChance(p)).toThrow(new RangeError(`not a probability: ${p}`));
  });
});

describe('certaintyOf', () => {
  it.each([
    [0.5, 'leaning'],
    [0.5999, 'leaning'],
    [0.6, 'probable'],
    [0.8499, 'probable'],
    [0.85, 'clear'],
    [1, 'clear'],
  ])('%d is %s', (chance, certainty) => {
    expect(certaintyOf(chance)).toBe(certainty);
  });
});

describe('verdictOf', () => {
  it('reads a negative prediction from the chance of negative (1 − score)', () => {
    expect(
      verdictOf({ label: 0, sentiment: 'negative', score: 0.002, knownFeatures: 3, modelVersion: '1' }),
    ).toEqual({
      tone: 'negative',
      certainty: 'clear',
      qualifier: 'Clearly',
      chance: 'over 99%',
      positivePercent: '0.2',
      valueText: 'over 99% chance negative',
    });
  });

  it('reads a positive prediction just over the threshold as leaning', () => {
    expect(verdictOf({ label: 1, sentiment: 'positive', score: 0.514, modelVersion: '1' })).toEqual({
      tone: 'positive',
      certainty: 'leaning',
      qualifier: 'Leaning',
      chance: '51%',
      positivePercent: '51.4',
      valueText: '51% chance positive',
    });
  });

  it('has no chance, qualifier or gauge position for "unknown"', () => {
    expect(
      verdictOf({ label: null, sentiment: 'unknown', score: null, knownFeatures: 0, modelVersion: '1' }),
    ).toEqual({
      tone: 'unknown',
      certainty: null,
      qualifier: null,
      chance: null,
      positivePercent: null,
      valueText: null,
    });
  });
});
