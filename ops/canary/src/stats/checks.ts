/**
 * Argument checks shared by the statistics: every function here throws a RangeError naming the
 * argument and the value it got, so bad counts from a query never turn into a silent NaN decision.
 */

/**
 * A count: finite and ≥ 0. Fractions are allowed, because Prometheus' `increase()` extrapolates to the
 * window's edges and returns non-integer counts.
 * @throws RangeError when `value` is NaN, infinite or negative.
 */
export function checkCount(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite count ≥ 0, got ${String(value)}`);
  }
}

/**
 * Events out of trials: both counts, and `x ≤ n`.
 * @throws RangeError on a bad count or when x > n.
 */
export function checkEvents(name: string, x: number, n: number): void {
  checkCount(`${name}.x`, x);
  checkCount(`${name}.n`, n);
  if (x > n) throw new RangeError(`${name}.x (${x}) must not exceed ${name}.n (${n})`);
}

/**
 * A probability or share in [0, 1].
 * @throws RangeError when `value` is NaN or outside [0, 1].
 */
export function checkShare(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be in [0, 1], got ${String(value)}`);
  }
}

/**
 * A level such as alpha or power, strictly between 0 and 1.
 * @throws RangeError when `value` is NaN or outside (0, 1).
 */
export function checkOpenUnit(name: string, value: number): void {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new RangeError(`${name} must be strictly between 0 and 1, got ${String(value)}`);
  }
}

/**
 * A finite real number.
 * @throws RangeError when `value` is NaN or infinite.
 */
export function checkFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, got ${String(value)}`);
  }
}

/**
 * A finite number > 0 (a variance, a mixing scale).
 * @throws RangeError when `value` is NaN, infinite or ≤ 0.
 */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new RangeError(`${name} must be a finite number > 0, got ${String(value)}`);
  }
}
