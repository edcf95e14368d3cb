import { describe, expect, it } from '@jest/globals';
import { createRandom, permutation, shuffled } from '../src/model/random.js';

describe('createRandom', () => {
  it('gives the known mulberry32 sequence for a seed', () => {
    const random = createRandom(42);
    expect(random()).toBe(0.6011037519201636);
    expect(random()).toBe(0.44829055899754167);
    expect(random()).toBe(0.8524657934904099);
    const zero = createRandom(0);
    expect([zero(), zero(), zero()]).toEqual([
      0.26642920868471265, 0.0003297457005828619, 0.2232720274478197,
    ]);
  });

  it('repeats for the same seed, differs for another, and stays in [0, 1)', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const c = createRandom(8);
    const seqA = Array.from({ length: 1000 }, () => a());
    const seqB = Array.from({ length: 1000 }, () => b());
    const seqC = Array.from({ length: 1000 }, () => c());
    expect(seqB).toEqual(seqA);
    expect(seqC).not.toEqual(seqA);
    for (const x of seqA) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('treats the seed as an unsigned 32-bit integer', () => {
    const a = createRandom(-1);
    const b = createRandom(0xffffffff);
    expect([a(), a()]).toEqual([b(), b()]);
  });
});

describe('shuffled and permutation', () => {
  const items = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('gives the known order for seed 42', () => {
    expect(shuffled(items, createRandom(42))).toEqual([1, 8, 4, 6, 3, 2, 9, 10, 5, 7]);
  });

  it('does not mutate the input and returns a permutation of it', () => {
    const input = ['a', 'b', 'c', 'd', 'e', 'f'];
    const copy = [...input];
    const out = shuffled(input, createRandom(3));
    expect(input).toEqual(copy);
    expect(out).not.toBe(input);
    expect(out).toHaveLength(input.length);
    expect([...out].sort()).toEqual(copy);
  });

  it('gives the same order for the same seed', () => {
    expect(shuffled(items, createRandom(123))).toEqual(shuffled(items, createRandom(123)));
    expect(permutation(50, createRandom(9))).toEqual(permutation(50, createRandom(9)));
    expect(shuffled(items, createRandom(123))).not.toEqual(shuffled(items, createRandom(124)));
  });

  it('handles empty and single-item inputs', () => {
    expect(shuffled([], createRandom(1))).toEqual([]);
    expect(shuffled(['x'], createRandom(1))).toEqual(['x']);
    expect(permutation(0, createRandom(1))).toEqual([]);
  });

  it('permutation(n) is a shuffle of 0..n-1', () => {
    const p = permutation(100, createRandom(5));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(10, createRandom(42))).toEqual(
      shuffled([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], createRandom(42)),
    );
  });
});
