/**
 * The prepare stage with user feedback, on the real dataset: feedback goes into the training set only
 * (the test and fresh sets stay byte-identical), the latest label for a text wins, and stats.json says
 * exactly what happened to every line.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toJsonl, type LabelledRow } from '../src/data/dataset.js';
import { prepare, type PrepareStats } from '../src/stages/prepare.js';
import { createWorkspace } from './workspace.js';

type Workspace = Awaited<ReturnType<typeof createWorkspace>>;

const read = (ws: Workspace, file: string) => readFile(path.join(ws.root, 'data/prepared', file));
const rows = async (ws: Workspace, file: string): Promise<LabelledRow[]> =>
  (await read(ws, file))
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const line = (text: string, label: unknown, time: string) =>
  JSON.stringify({ text, label, predictedLabel: 0, modelVersion: '1.0.0', time });

describe('prepare with user feedback', () => {
  let base: Workspace;
  let baseStats: PrepareStats;
  beforeAll(async () => {
    base = await createWorkspace();
    baseStats = await prepare(base.ctx);
  });
  afterAll(() => base.cleanup());

  it('merges feedback from several writers into training only; the test and fresh sets stay byte-identical', async () => {
    const [train, test, fresh] = await Promise.all(
      ['train', 'test', 'fresh'].map((f) => rows(base, `${f}.jsonl`)),
    );
    const ws = await createWorkspace({ prepare: { feedback: { enabled: true, dir: 'feedback' } } });
    try {
      const dir = path.join(ws.root, 'feedback');
      await mkdir(dir);
      const [t0, t1] = train;
      const flip = (label: 0 | 1) => 1 - label;
      // Writer A (live file and a rotated one), writer B, and an older deployment's feedback.jsonl,
      // interleaved in time.
      await writeFile(
        path.join(dir, 'feedback-pod-a-20261130T100000Z-1.jsonl'),
        [
          line(` ${t0.text.toUpperCase()} `, flip(t0.label), '2026-11-30T09:00:01.000Z'),
          line('The ramen here is out of this world', 0, '2026-11-30T09:00:06.000Z'),
        ].join('\n') + '\n',
      );
      await writeFile(
        path.join(dir, 'feedback-pod-a.jsonl'),
        [line(test[0].text, flip(test[0].label), '2026-11-30T09:00:04.000Z'), '{"text":"torn li'].join('\n'),
      );
      await writeFile(
        path.join(dir, 'feedback-pod-b.jsonl'),
        [
          line(t1.text, flip(t1.label), '2026-11-30T09:00:02.000Z'),
          line(t0.text, t0.label, '2026-11-30T09:00:03.000Z'),
          line(fresh[0].text, flip(fresh[0].label), '2026-11-30T09:00:05.000Z'),
          line('Great', 5, '2026-11-30T09:00:05.000Z'),
        ].join('\n') + '\n',
      );
      await writeFile(
        path.join(dir, 'feedback.jsonl'),
        line('the ramen here is  out of this world', 1, '2026-11-30T09:00:07.000Z') + '\n',
      );

      const stats = await prepare(ws.ctx);
      expect(await read(ws, 'test.jsonl')).toEqual(await read(base, 'test.jsonl'));
      expect(await read(ws, 'fresh.jsonl')).toEqual(await read(base, 'fresh.jsonl'));
      const expectedTrain = [
        ...train.map((r, i) => (i === 1 ? { text: r.text, label: flip(r.label) as 0 | 1 } : r)),
        // The latest record wins, its text whitespace-normalized.
        { text: 'the ramen here is out of this world', label: 1 as const },
      ];
      expect((await read(ws, 'train.jsonl')).toString()).toBe(toJsonl(expectedTrain));

      expect(stats.feedback).toEqual({
        enabled: true,
        dir: 'feedback',
        found: true,
        files: 4,
        lines: 9,
        records: 7,
        rejected: { invalid_json: 1, invalid_label: 1, empty_text: 0, invalid_time: 0 },
        superseded: 2,
        accepted: 3,
        added: 1,
        overridden: 1,
        unchanged: 1,
        dropped: { in_test_set: 1, in_fresh_set: 1 },
      });
      expect(stats.rows).toEqual({ ...baseStats.rows, feedback: 1, train: baseStats.rows.train + 1 });
      const positive = expectedTrain.filter((r) => r.label === 1).length;
      expect(stats.class_balance).toEqual({
        ...baseStats.class_balance,
        train: { negative: expectedTrain.length - positive, positive },
      });
      expect(JSON.parse((await read(ws, 'stats.json')).toString())).toEqual(stats);
    } finally {
      await ws.cleanup();
    }
  });

  it('enabled with no feedback folder yet: 0 rows, said so in stats.json', async () => {
    const ws = await createWorkspace({ prepare: { feedback: { enabled: true, dir: 'feedback' } } });
    try {
      const stats = await prepare(ws.ctx);
      expect(stats.feedback).toEqual({
        enabled: true,
        dir: 'feedback',
        found: false,
        files: 0,
        lines: 0,
        records: 0,
        rejected: { invalid_json: 0, invalid_label: 0, empty_text: 0, invalid_time: 0 },
        superseded: 0,
        accepted: 0,
        added: 0,
        overridden: 0,
        unchanged: 0,
        dropped: { in_test_set: 0, in_fresh_set: 0 },
      });
      expect(stats.rows).toEqual(baseStats.rows);
      for (const file of ['train.jsonl', 'test.jsonl', 'fresh.jsonl']) {
        expect(await read(ws, file)).toEqual(await read(base, file));
      }
    } finally {
      await ws.cleanup();
    }
  });
});
