/**
 * Seeded pseudo-random numbers: mulberry32 (Tommy Ettinger, public domain), a 32-bit generator that is
 * fast, small and good enough for shuffling and splitting data reproducibly.
 */

/** A generator of floats uniform in [0, 1). */
export type Random = () => number;

/**
 * Creates a seeded generator.
 * @param seed any integer; the same seed gives the same sequence on every platform.
 */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fisher–Yates shuffle into a new array.
 * @returns a permutation of `items` (same length); `items` is not changed.
 */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `[0, 1, ..., n-1]` shuffled. */
export function permutation(n: number, random: Random): number[] {
  return shuffled(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
}
