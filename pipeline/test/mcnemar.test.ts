/**
 * McNemar's test: exact values on small tables worked out by hand, SciPy's values on every table of
 * fixtures/mcnemar.json (relative 1e-12; measured at most 6e-14, the fixture keeps 14 digits), and the
 * committed fixture is exactly what fixtures/mcnemar.py writes (needs /usr/bin/python3 with SciPy, or
 * PYTHON; skipped locally without it, failed under CI=true).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import {
  chiSquareOneDofSurvival,
  discordantPairs,
  mcnemarTest,
  mcnemarVerdict,
} from '../src/evaluate/mcnemar.js';
import { toolAvailable } from '../../test/support/system-tool.js';
import { REPO_ROOT } from './workspace.js';

const FIXTURES = path.join(REPO_ROOT, 'pipeline/test/fixtures');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface FixtureCase {
  b: number;
  c: number;
  statistic: number;
  chi2PValue: number;
  pValue: number;
  midPValue: number;
}
const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'mcnemar.json'), 'utf8')) as {
  cases: FixtureCase[];
};

/** |actual − expected| ≤ relative·|expected|, with a message naming the case. */
function expectClose(actual: number, expected: number, relative: number, what: string): void {
  const error = Math.abs(actual - expected);
  if (!(error <= relative * Math.abs(expected))) {
    throw new Error(
      `${what}: got ${actual}, SciPy ${expected} (relative error ${error / Math.abs(expected)})`,
    );
  }
}

describe('mcnemarTest on tables worked out by hand', () => {
  it('b = 10, c = 2: P(X ≤ 2) = (1 + 12 + 66)/4096 for X ~ Bin(12, 1/2)', () => {
    expect(mcnemarTest(10, 2)).toEqual({
      b: 10,
      c: 2,
      n: 12,
      statistic: 49 / 12, // (|10 − 2| − 1)² / 12
      chi2_p_value: expect.any(Number),
      p_value: 158 / 4096, // 2 · 79/4096 = 0.03857421875
      mid_p_value: 92 / 4096, // 2 · 79/4096 − 66/4096 = 0.0224609375
    });
    expect(mcnemarTest(2, 10).p_value).toBe(158 / 4096);
  });

  it('b = 25, c = 0: p = 2 · 2⁻²⁵; no discordant rows: p = 1; ties: p = 1, statistic 0', () => {
    expect(mcnemarTest(25, 0).p_value).toBe(2 ** -24);
    expect(mcnemarTest(25, 0).mid_p_value).toBe(2 ** -25);
    expect(mcnemarTest(0, 0)).toEqual({
      b: 0,
      c: 0,
      n: 0,
      statistic: 0,
      chi2_p_value: 1,
      p_value: 1,
      mid_p_value: 1,
    });
    expect(mcnemarTest(6, 6)).toEqual({
      b: 6,
      c: 6,
      n: 12,
      statistic: 0,
      chi2_p_value: 1,
      p_value: 1,
      mid_p_value: 1,
    });
    // One discordant row: the exact p is 1, the mid-p 1/2.
    expect(mcnemarTest(0, 1)).toMatchObject({ p_value: 1, mid_p_value: 0.5, statistic: 0 });
  });

  it('rejects counts that are not whole numbers ≥ 0', () => {
    expect(() => mcnemarTest(-1, 3)).toThrow(new RangeError('McNemar: b must be a whole number ≥ 0, got -1'));
    expect(() => mcnemarTest(2, 1.5)).toThrow(
      new RangeError('McNemar: c must be a whole number ≥ 0, got 1.5'),
    );
    expect(() => mcnemarTest(Number.NaN, 1)).toThrow('McNemar: b must be a whole number ≥ 0, got NaN');
    expect(() => chiSquareOneDofSurvival(-0.5)).toThrow('chi-square statistic must be ≥ 0, got -0.5');
  });
});

describe('mcnemarTest against SciPy (fixtures/mcnemar.json)', () => {
  it(`matches binomtest, the mid-p and chi2.sf on ${fixture.cases.length} tables from (0, 0) to (3000, 2900)`, () => {
    expect(fixture.cases.length).toBe(30);
    for (const k of fixture.cases) {
      const r = mcnemarTest(k.b, k.c);
      const what = `b=${k.b}, c=${k.c}`;
      expect(r.n).toBe(k.b + k.c);
      expectClose(r.statistic, k.statistic, 1e-12, `${what} statistic`);
      expectClose(r.p_value, k.pValue, 1e-12, `${what} p_value`);
      expectClose(r.mid_p_value, k.midPValue, 1e-12, `${what} mid_p_value`);
      expectClose(r.chi2_p_value, k.chi2PValue, 1e-12, `${what} chi2_p_value`);
    }
  });

  it('keeps far-tail p-values relative: b = 0, c = 1000 gives 2⁻⁹⁹⁹, not 0', () => {
    expect(mcnemarTest(0, 1000).p_value).toBe(2 ** -999);
    expect(mcnemarTest(0, 1000).p_value).toBeGreaterThan(1e-301);
  });
});

describe('discordantPairs and mcnemarVerdict', () => {
  it('counts the rows only one model gets right', () => {
    const champion = [true, true, false, false, true, true, false];
    const challenger = [true, false, true, false, false, true, true];
    expect(discordantPairs(champion, challenger)).toEqual({ b: 2, c: 2 });
    expect(discordantPairs([true, true, true], [false, false, true])).toEqual({ b: 2, c: 0 });
    expect(() => discordantPairs([true], [true, false])).toThrow(
      new RangeError('McNemar: paired rows differ in number (1 champion vs 2 challenger)'),
    );
  });

  it('calls the challenger worse or better only when p < alpha', () => {
    expect(mcnemarVerdict(mcnemarTest(10, 2), 0.05)).toBe('worse'); // p = 0.0386
    expect(mcnemarVerdict(mcnemarTest(2, 10), 0.05)).toBe('better');
    expect(mcnemarVerdict(mcnemarTest(10, 2), 0.01)).toBe('no_significant_difference');
    expect(mcnemarVerdict(mcnemarTest(45, 30), 0.05)).toBe('no_significant_difference'); // p = 0.105
    expect(mcnemarVerdict(mcnemarTest(0, 0), 0.05)).toBe('no_significant_difference');
    expect(mcnemarVerdict({ b: 3, c: 3, p_value: 1 }, 0.999)).toBe('no_significant_difference');
    expect(() => mcnemarVerdict(mcnemarTest(1, 1), 0)).toThrow(
      new RangeError('alpha must be in (0, 1), got 0'),
    );
    expect(() => mcnemarVerdict(mcnemarTest(1, 1), 1)).toThrow('alpha must be in (0, 1), got 1');
  });
});

/** True when PYTHON runs and imports SciPy. */
function haveScipy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import scipy'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

const scipy = toolAvailable(
  haveScipy() ? undefined : `${PYTHON} cannot import SciPy`,
  'the McNemar fixture regeneration check',
  "Debian's python3-scipy, or pip install scipy and set PYTHON",
);

(scipy ? describe : describe.skip)('fixtures/mcnemar.py', () => {
  it('writes exactly the committed mcnemar.json', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'mcnemar-fixture-'));
    try {
      await promisify(execFile)(PYTHON, [path.join(FIXTURES, 'mcnemar.py'), '--out', out], {
        timeout: 120_000,
      });
      expect(await readFile(path.join(out, 'mcnemar.json'), 'utf8')).toBe(
        await readFile(path.join(FIXTURES, 'mcnemar.json'), 'utf8'),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
