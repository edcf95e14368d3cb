import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  classBalance,
  cleanRows,
  readJsonl,
  stratifiedFolds,
  stratifiedSplit,
  toJsonl,
  type LabelledRow,
} from '../src/data/dataset.js';
import { readFeedback } from '../src/data/feedback.js';

const rows = (n: number): LabelledRow[] =>
  Array.from({ length: n }, (_, i) => ({ text: `review ${i}`, label: (i % 3 === 0 ? 0 : 1) as 0 | 1 }));

describe('cleanRows', () => {
  it('normalizes whitespace, drops empty texts and later case-insensitive duplicates', () => {
    const result = cleanRows([
      { text: '  Great   food ', label: 1, row: 1 },
      { text: 'great food', label: 1, row: 2 },
      { text: '   ', label: 0, row: 3 },
      { text: 'Bad', label: 0, row: 4 },
    ]);
    expect(result).toEqual({
      rows: [
        { text: 'Great food', label: 1, row: 1 },
        { text: 'Bad', label: 0, row: 4 },
      ],
      duplicates: 1,
      empty: 1,
    });
  });
});

describe('splits', () => {
  it('splits stratified and seeded', () => {
    const data = rows(30); // 10 negative, 20 positive
    const a = stratifiedSplit(data, 0.2, 42);
    const b = stratifiedSplit(data, 0.2, 42);
    expect(a).toEqual(b);
    expect(classBalance(a.test)).toEqual({ negative: 2, positive: 4 });
    expect(classBalance(a.train)).toEqual({ negative: 8, positive: 16 });
    expect(stratifiedSplit(data, 0.2, 43).test).not.toEqual(a.test);
  });

  it('deals disjoint, covering, balanced folds', () => {
    const labels = rows(30).map((r) => r.label);
    const folds = stratifiedFolds(labels, 5, 7);
    expect(folds.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const fold of folds) {
      expect(fold.length).toBe(6);
      expect(fold.filter((i) => labels[i] === 0).length).toBe(2);
    }
    expect(() => stratifiedFolds([0, 1, 1], 2, 1)).toThrow('cannot make 2 stratified folds');
  });
});

describe('JSONL', () => {
  it('round-trips rows and names a bad line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-jsonl-'));
    const file = path.join(dir, 'a.jsonl');
    const data: LabelledRow[] = [
      { text: 'tab\there "quoted"\nnewline 😀', label: 1 },
      { text: 'b', label: 0 },
    ];
    await writeFile(file, toJsonl(data));
    expect(await readJsonl(file)).toEqual(data);
    await writeFile(file, toJsonl(data) + '{"text":"x","label":2}\n');
    await expect(readJsonl(file)).rejects.toThrow(`${file}: line 3: not a {text, label: 0|1} row`);
  });
});

describe('readFeedback', () => {
  it('accepts valid rows and counts rejected ones', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-feedback-'));
    const file = path.join(dir, 'feedback.jsonl');
    await writeFile(
      file,
      [
        '{"text":"Loved it","label":1,"predictedLabel":1,"modelVersion":"1.0.0"}',
        '{"text":"meh","label":"bad"}',
        '{"text":"","label":0}',
        'not json',
        '{"text":"Awful","label":0}',
        '',
      ].join('\n'),
    );
    expect(await readFeedback(file)).toEqual({
      rows: [
        { text: 'Loved it', label: 1 },
        { text: 'Awful', label: 0 },
      ],
      rejected: { invalid_json: 1, invalid_label: 1, empty_text: 1 },
    });
    await expect(readFeedback(path.join(dir, 'missing.jsonl'))).rejects.toThrow(
      'cannot read the feedback file',
    );
  });
});
