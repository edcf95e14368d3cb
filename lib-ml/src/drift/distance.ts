/**
 * Jensen–Shannon distance between two binned distributions: the drift statistic of the chart's
 * recording rules (`version:*:js_distance`), here for the pipeline's reports and the tests' expected
 * values.
 *
 * JSD(P‖Q) = ½ Σ p·log₂(p/m) + ½ Σ q·log₂(q/m) with m = (p + q)/2, terms with p = 0 (or q = 0) being 0
 * (Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37(1), 1991). In
 * base 2 it lies in [0, 1]; its square root, the Jensen–Shannon distance, is a metric (Endres &
 * Schindelin, IEEE Trans. Inf. Theory 49(7), 2003), 0 for identical distributions and 1 for disjoint
 * ones. It equals `scipy.spatial.distance.jensenshannon(p, q, base=2)`. Unlike the population stability
 * index it needs no smoothing of empty bins and stays finite when the live traffic leaves a bin empty.
 */

/**
 * Jensen–Shannon distance (base 2) between two distributions over the same bins.
 * @param p,q non-negative weights per bin (counts or shares), same length ≥ 1, each with a positive sum;
 *   both are normalized to sum 1 first.
 * @returns a number in [0, 1].
 * @throws RangeError for different lengths, a negative or non-finite weight, or a zero sum.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length || p.length === 0) {
    throw new RangeError(`p and q need the same number (≥ 1) of bins, got ${p.length} and ${q.length}`);
  }
  const normalize = (weights: readonly number[], name: string) => {
    let total = 0;
    for (const [i, w] of weights.entries()) {
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`${name}[${i}] = ${w} is not a weight ≥ 0`);
      total += w;
    }
    if (total <= 0) throw new RangeError(`${name} sums to 0`);
    return weights.map((w) => w / total);
  };
  const pn = normalize(p, 'p');
  const qn = normalize(q, 'q');
  let divergence = 0;
  for (let i = 0; i < pn.length; i++) {
    const m = (pn[i] + qn[i]) / 2;
    if (pn[i] > 0) divergence += 0.5 * pn[i] * Math.log2(pn[i] / m);
    if (qn[i] > 0) divergence += 0.5 * qn[i] * Math.log2(qn[i] / m);
  }
  return Math.sqrt(Math.max(0, divergence));
}
