/**
 * The committed SciPy fixtures are exactly what fixtures/generate.py writes: the script is rerun into a
 * temporary folder and every JSON file compared byte for byte, so nobody can edit a reference value by
 * hand or change the script without regenerating.
 *
 * Needs /usr/bin/python3 with SciPy (Debian python3-scipy; PYTHON overrides the interpreter): skipped
 * with a warning when it is missing, failed when CI=true.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toolAvailable } from '../../../test/support/system-tool.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** True when PYTHON runs and imports SciPy. */
function haveScipy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import scipy, numpy'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

const scipy = toolAvailable(
  haveScipy() ? undefined : `${PYTHON} cannot import SciPy`,
  'the fixture regeneration check',
  "Debian's python3-scipy, or pip install scipy and set PYTHON",
);
const describeScipy = scipy ? describe : describe.skip;

describeScipy('fixtures/generate.py', () => {
  let out: string;
  const committed = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort();

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'canary-fixtures-'));
    await promisify(execFile)(PYTHON, [path.join(FIXTURES, 'generate.py'), '--out', out], {
      timeout: 120_000,
    });
  });

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes exactly the committed JSON files', () => {
    expect(readdirSync(out).sort()).toEqual(committed);
    expect(committed).toEqual([
      'chi-square.json',
      'guardrails.json',
      'mann-whitney.json',
      'mixture.json',
      'normal.json',
      'sample-size.json',
      'wilson.json',
    ]);
  });

  it.each(committed)('%s is byte for byte what the script writes', (name) => {
    expect(readFileSync(path.join(out, name), 'utf8')).toBe(readFileSync(path.join(FIXTURES, name), 'utf8'));
  });
});
