import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  classBalance,
  cleanRows,
  normalizeText,
  readJsonl,
  stratifiedFolds,
  stratifiedSplit,
  textKey,
  toJsonl,
  type LabelledRow,
} from '../src/data/dataset.js';
import { mergeFeedback, readFeedbackDir, type FeedbackRecord } from '../src/data/feedback.js';

const rows = (n: number): LabelledRow[] =>
  Array.from({ length: n }, (_, i) => ({ text: `review ${i}`, label: (i % 3 === 0 ? 0 : 1) as 0 | 1 }));

describe('cleanRows', () => {
  it('uses one key for duplicates and feedback matching', () => {
    expect(normalizeText(' Great \t food\n ')).toBe('Great food');
    expect(textKey(' Great \t FOOD\n ')).toBe('great food');
  });

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

describe('readFeedbackDir', () => {
  const line = (text: string, label: unknown, time: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ text, label, predictedLabel: 1, modelVersion: '1.0.0', time, ...extra });

  it('reads every feedback*.jsonl of the folder, ordered by time, then file name, then line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-feedback-'));
    // Two current writers (one live file each, one rotated) and an older deployment's files.
    await writeFile(
      path.join(dir, 'feedback-pod-a-20261130T100000Z-1.jsonl'),
      [line('A1', 1, '2026-11-30T09:00:00.000Z'), line('A2', 0, '2026-11-30T09:00:03.000Z')].join('\n') +
        '\n',
    );
    await writeFile(
      path.join(dir, 'feedback-pod-a.jsonl'),
      [line('A3', 1, '2026-11-30T10:00:01.000Z'), '{"text":"torn'].join('\n'),
    );
    await writeFile(
      path.join(dir, 'feedback-pod-b.jsonl'),
      [
        line('B1', 0, '2026-11-30T09:00:02.000Z'),
        line('B2', 1, '2026-11-30T10:00:01.000Z'), // same instant as A3: file name decides
        line('B3', 1, '2026-11-30T11:00:00+01:00'), // = 10:00:00Z
        line('bad label', 2, '2026-11-30T09:00:00.000Z'),
        line('no time', 1, undefined),
        line('bad time', 1, '30/11/2026 10:00'),
        line('   ', 1, '2026-11-30T09:00:00.000Z'),
        '[1,2]',
      ].join('\n') + '\n',
    );
    await writeFile(path.join(dir, 'feedback.jsonl'), line('OLD2', 0, '2026-11-29T08:00:00.000Z') + '\n');
    await writeFile(
      path.join(dir, 'feedback-20261128T120000Z.jsonl'),
      line('OLD1', 1, '2026-11-28T11:00:00.000Z') + '\n\n',
    );
    await writeFile(path.join(dir, 'README.md'), 'not feedback\n');
    await writeFile(path.join(dir, 'other.jsonl'), line('ignored', 1, '2026-11-30T09:00:00.000Z') + '\n');

    const read = await readFeedbackDir(dir);
    expect(read.found).toBe(true);
    expect(read.files).toEqual([
      'feedback-20261128T120000Z.jsonl',
      'feedback-pod-a-20261130T100000Z-1.jsonl',
      'feedback-pod-a.jsonl',
      'feedback-pod-b.jsonl',
      'feedback.jsonl',
    ]);
    expect(read.records.map((r) => [r.text, r.label, r.file, r.line])).toEqual([
      ['OLD1', 1, 'feedback-20261128T120000Z.jsonl', 1],
      ['OLD2', 0, 'feedback.jsonl', 1],
      ['A1', 1, 'feedback-pod-a-20261130T100000Z-1.jsonl', 1],
      ['B1', 0, 'feedback-pod-b.jsonl', 1],
      ['A2', 0, 'feedback-pod-a-20261130T100000Z-1.jsonl', 2],
      ['B3', 1, 'feedback-pod-b.jsonl', 3],
      ['A3', 1, 'feedback-pod-a.jsonl', 1],
      ['B2', 1, 'feedback-pod-b.jsonl', 2],
    ]);
    expect(read.records[5]).toEqual({
      text: 'B3',
      label: 1,
      time: '2026-11-30T11:00:00+01:00',
      timeMs: Date.parse('2026-11-30T10:00:00Z'),
      file: 'feedback-pod-b.jsonl',
      line: 3,
    });
    expect(read.rejected).toEqual({ invalid_json: 2, invalid_label: 1, empty_text: 1, invalid_time: 2 });
    expect(read.lines).toBe(8 + 6);
  });

  it('a missing folder is no feedback yet, not an error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-feedback-'));
    expect(await readFeedbackDir(path.join(dir, 'none'))).toEqual({
      found: false,
      files: [],
      lines: 0,
      records: [],
      rejected: { invalid_json: 0, invalid_label: 0, empty_text: 0, invalid_time: 0 },
    });
    await writeFile(path.join(dir, 'file'), '');
    await expect(readFeedbackDir(path.join(dir, 'file'))).rejects.toThrow(
      `${path.join(dir, 'file')}: cannot read the feedback folder (prepare.feedback.dir): ENOTDIR`,
    );
  });
});

describe('mergeFeedback', () => {
  const record = (text: string, label: 0 | 1, second: number, file = 'feedback-a.jsonl'): FeedbackRecord => ({
    text,
    label,
    time: new Date(Date.UTC(2026, 10, 30, 10, 0, second)).toISOString(),
    timeMs: Date.UTC(2026, 10, 30, 10, 0, second),
    file,
    line: second + 1,
  });
  const train: LabelledRow[] = [
    { text: 'Great food', label: 1 },
    { text: 'Slow service', label: 0 },
    { text: 'Nice view', label: 1 },
  ];
  const test: LabelledRow[] = [{ text: 'Cold soup', label: 0 }];
  const fresh: LabelledRow[] = [{ text: 'Loved the tacos', label: 1 }];

  it('adds to training only; the latest label for a text wins over earlier ones and the dataset', () => {
    const merged = mergeFeedback(train, { test, fresh }, [
      record('  slow   SERVICE ', 1, 0), // relabels a training row (same textKey)...
      record('brand new place', 0, 1),
      record('Slow service', 0, 2, 'feedback-b.jsonl'), // ...but a later record says 0 again: unchanged
      record('great food', 0, 3), // relabels "Great food"
      record('Brand  new place', 1, 4, 'feedback-b.jsonl'), // later label for the new text wins
      record('cold soup', 1, 5), // in the test set: left out
      record('LOVED the tacos', 0, 6), // in the fresh set: left out
      record('Another  one', 1, 7),
    ]);
    expect(merged).toEqual({
      train: [
        { text: 'Great food', label: 0 },
        { text: 'Slow service', label: 0 },
        { text: 'Nice view', label: 1 },
        { text: 'Brand new place', label: 1 },
        { text: 'Another one', label: 1 },
      ],
      superseded: 2,
      added: 2,
      overridden: 1,
      unchanged: 1,
      held_out: { test: 1, fresh: 1 },
    });
    // The inputs are not modified.
    expect(train[0]).toEqual({ text: 'Great food', label: 1 });
  });
});
