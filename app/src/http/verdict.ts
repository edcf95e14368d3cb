/**
 * What the result page says about a prediction: a headline ("Clearly positive", "Leaning negative",
 * "Can't tell"), the chance in words rounded honestly, and where the score sits on the gauge.
 *
 * The score is model-service's probability that the review is positive (0–1, label 1 from 0.5 up, as in
 * lib-ml's `toPrediction`); the chance shown is that of the predicted label, `score` or `1 - score`.
 */
import type { ServicePrediction } from '../model-client.js';

/** How sure the model is of the label it predicted, from the chance of that label. */
export type Certainty = 'clear' | 'probable' | 'leaning';

/** Lower bounds of the chance of the predicted label for each {@link Certainty} (below `probable`: leaning). */
export const CERTAINTY_BOUNDS = { clear: 0.85, probable: 0.6 } as const;

/** The result page's reading of a prediction. */
export type Verdict =
  | {
      tone: 'positive' | 'negative';
      certainty: Certainty;
      /** First word of the headline: "Clearly", "Probably" or "Leaning". */
      qualifier: string;
      /** Chance of the predicted label in words: "93%", "over 99%", "just over 50%". */
      chance: string;
      /** Score as a percentage with one decimal ("93.0"): the gauge marker's position from the left. */
      positivePercent: string;
      /** The gauge's value for assistive technology, e.g. "93% chance positive". */
      valueText: string;
    }
  | {
      tone: 'unknown';
      certainty: null;
      qualifier: null;
      chance: null;
      positivePercent: null;
      valueText: null;
    };

/**
 * A probability (0–1) as a percentage that never overstates: 0.998 is "over 99%" (not "100%"), 0.503 is
 * "just over 50%" (not "50%", which would read as a coin toss the model did not make), otherwise the
 * nearest whole percent.
 * @throws RangeError for a value outside 0–1 or not a number.
 */
export function formatChance(probability: number): string {
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`not a probability: ${probability}`);
  const percent = Math.round(probability * 100);
  if (percent === 100 && probability < 1) return 'over 99%';
  if (probability === 1) return 'over 99%'; // a saturated float32 sigmoid, not certainty
  if (percent === 50 && probability > 0.5) return 'just over 50%';
  if (percent === 0 && probability > 0) return 'under 1%';
  return `${percent}%`;
}

/** The certainty band of `chance`, the probability (0.5–1) of the predicted label. */
export function certaintyOf(chance: number): Certainty {
  if (chance >= CERTAINTY_BOUNDS.clear) return 'clear';
  if (chance >= CERTAINTY_BOUNDS.probable) return 'probable';
  return 'leaning';
}

const QUALIFIERS: Record<Certainty, string> = { clear: 'Clearly', probable: 'Probably', leaning: 'Leaning' };

/** Reads a prediction for the result page (see module doc). */
export function verdictOf(prediction: ServicePrediction): Verdict {
  if (prediction.sentiment === 'unknown') {
    return {
      tone: 'unknown',
      certainty: null,
      qualifier: null,
      chance: null,
      positivePercent: null,
      valueText: null,
    };
  }
  const chance = prediction.label === 1 ? prediction.score : 1 - prediction.score;
  const certainty = certaintyOf(chance);
  const chanceText = formatChance(chance);
  return {
    tone: prediction.sentiment,
    certainty,
    qualifier: QUALIFIERS[certainty],
    chance: chanceText,
    positivePercent: (prediction.score * 100).toFixed(1),
    valueText: `${chanceText} chance ${prediction.sentiment}`,
  };
}
