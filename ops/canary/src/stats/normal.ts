/**
 * The standard normal distribution: cumulative distribution function Φ and its inverse, to about
 * double precision (checked against SciPy's `norm.cdf`/`norm.ppf` in test/stats.test.ts), including the
 * far tails where p-values live (Φ(−37) ≈ 5.7e−300 keeps its relative precision).
 */
import { checkShare } from './checks.js';

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Below this argument erfc comes from the erf series, above it from the continued fraction. */
const SERIES_LIMIT = 1.5;

/**
 * erf(x) for 0 ≤ x < {@link SERIES_LIMIT} by the series of only positive terms
 * erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5⋯(2n+1)) (Abramowitz & Stegun 7.1.6), which has no
 * cancellation.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x ≥ {@link SERIES_LIMIT} by the continued fraction
 * √π e^(x²) erfc(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (Abramowitz & Stegun 7.1.14),
 * evaluated with the modified Lentz algorithm (Press et al., Numerical Recipes, 3rd ed., §5.2). Keeps its
 * relative precision in the tail, where 1 − erf(x) would lose every digit.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** erfc(x) for x ≥ 0. */
function erfcNonNegative(x: number): number {
  return x < SERIES_LIMIT ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/**
 * Standard normal cumulative distribution function Φ(z) = P(Z ≤ z) = erfc(−z/√2)/2.
 *
 * erfc comes from the series A&S 7.1.6 for |z|/√2 < 1.5 and from the continued fraction A&S 7.1.14
 * beyond; the lower tail is computed directly (never as 1 − something), so Φ(z) for very negative z keeps
 * its relative precision down to the underflow near z = −38. For an upper-tail probability 1 − Φ(z) use
 * Φ(−z).
 *
 * @param z a real number (±Infinity allowed).
 * @returns Φ(z) in [0, 1].
 * @throws RangeError when z is NaN.
 */
export function normalCdf(z: number): number {
  if (typeof z !== 'number' || Number.isNaN(z)) throw new RangeError(`z must be a number, got ${String(z)}`);
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const x = Math.abs(z) * Math.SQRT1_2;
  if (z < 0) return 0.5 * erfcNonNegative(x);
  if (x < SERIES_LIMIT) return 0.5 + 0.5 * erfSeries(x);
  return 1 - 0.5 * erfcContinuedFraction(x);
}

/**
 * Standard normal density φ(z) = e^(−z²/2)/√(2π).
 * @throws RangeError when z is NaN.
 */
export function normalPdf(z: number): number {
  if (typeof z !== 'number' || Number.isNaN(z)) throw new RangeError(`z must be a number, got ${String(z)}`);
  return Math.exp(-0.5 * z * z) / SQRT_2PI;
}

/**
 * Inverse of Φ: the z with Φ(z) = p.
 *
 * Starts from the rational approximation of Abramowitz & Stegun 26.2.23 (Hastings; absolute error
 * < 4.5e−4) and refines it with Halley's method on Φ(z) − p, the refinement step Acklam recommends for his
 * approximation (P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
 * function", 2003): each step triples the number of correct digits, so three steps reach double
 * precision. The iteration runs on the smaller tail min(p, 1 − p) so that small p keep their relative
 * precision (normalQuantile(1e−300) ≈ −37.0471).
 *
 * @param p probability in [0, 1].
 * @returns z; −Infinity for p = 0, +Infinity for p = 1.
 * @throws RangeError when p is NaN or outside [0, 1].
 */
export function normalQuantile(p: number): number {
  checkShare('p', p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  const q = p < 0.5 ? p : 1 - p; // exact for p ≥ 0.5 (Sterbenz)
  // A&S 26.2.23: upper-tail quantile of q, 0 < q ≤ 0.5.
  const t = Math.sqrt(-2 * Math.log(q));
  let z = -(
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) /
      (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
  );
  for (let i = 0; i < 6; i++) {
    const e = normalCdf(z) - q;
    const u = e * SQRT_2PI * Math.exp(0.5 * z * z);
    const step = u / (1 + 0.5 * z * u);
    z -= step;
    if (Math.abs(step) <= 1e-16 * Math.max(1, Math.abs(z))) break;
  }
  return p < 0.5 ? z : -z;
}
