/**
 * Histogram buckets shared by model-service's live histograms, the pipeline's reference and the chart's
 * drift rules: ONE definition here, so that a reference bin and a live bin always mean the same range.
 *
 * Buckets follow Prometheus' convention: each bound is an upper bound `le` (value ≤ bound), ascending,
 * and bin i holds the values in (bound[i-1], bound[i]] (bin 0: everything ≤ bound[0]). Both measured
 * quantities lie in [0, 1], so the last bound is 1 and Prometheus' `+Inf` bucket never adds anything.
 */

/**
 * Upper bounds of `model_prediction_score` (the positive-class probability): ten bins 0.1 wide.
 */
export const PREDICTION_SCORE_BUCKETS: readonly number[] = Object.freeze([
  0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
]);

/**
 * Upper bounds of `model_input_oov_ratio` (the share of a review's word tokens the vectorizer does not
 * know, see ./oov.ts). On the held-out Yelp reviews most texts have no or few unknown tokens, so the low
 * end is finer; 0 is a bin of its own (every token known).
 */
export const OOV_RATE_BUCKETS: readonly number[] = Object.freeze([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1]);

/** Per-bin counts of a histogram (not cumulative), with its bounds. */
export interface HistogramCounts {
  /** Upper bounds (`le`), strictly ascending, finite. */
  buckets: number[];
  /** counts[i]: values in (buckets[i-1], buckets[i]]; integers ≥ 0, same length as `buckets`. */
  counts: number[];
}

/**
 * The `le` label value Prometheus clients give a bound: its shortest decimal form (`String(0.1)` is
 * "0.1", `String(1)` is "1"), as prom-client writes it.
 */
export function leLabel(bound: number): string {
  return String(bound);
}

/**
 * Counts `values` into the bins of `buckets` (Prometheus `le` semantics: a value equal to a bound is in
 * that bound's bin).
 * @param values finite numbers, each ≤ the last bound.
 * @param buckets strictly ascending finite upper bounds (at least one).
 * @returns counts per bin, buckets.length integers summing to values.length.
 * @throws RangeError for a value that is not finite or above the last bound, or bad `buckets`.
 */
export function binCounts(values: Iterable<number>, buckets: readonly number[]): number[] {
  assertBuckets(buckets);
  const counts = new Array<number>(buckets.length).fill(0);
  for (const value of values) {
    if (!Number.isFinite(value) || value > buckets[buckets.length - 1]) {
      throw new RangeError(`value ${value} is outside the buckets (≤ ${buckets[buckets.length - 1]})`);
    }
    let i = 0;
    while (value > buckets[i]) i++;
    counts[i]++;
  }
  return counts;
}

/**
 * The share of each bin: counts[i] / Σ counts.
 * @returns counts.length numbers summing to 1, or null when every count is 0.
 */
export function binShares(counts: readonly number[]): number[] | null {
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 0 ? counts.map((c) => c / total) : null;
}

/**
 * Checks that bucket bounds are usable: at least one, finite, strictly ascending.
 * @throws RangeError saying what is wrong.
 */
export function assertBuckets(buckets: readonly number[]): void {
  if (buckets.length === 0) throw new RangeError('buckets: need at least one bound');
  buckets.forEach((bound, i) => {
    if (!Number.isFinite(bound)) throw new RangeError(`buckets[${i}]: ${bound} is not a finite number`);
    if (i > 0 && bound <= buckets[i - 1]) {
      throw new RangeError(`buckets[${i}]: ${bound} is not above buckets[${i - 1}] (${buckets[i - 1]})`);
    }
  });
}

/** True when two bucket lists have the same bounds in the same order. */
export function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}
