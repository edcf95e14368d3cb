/** The feedback file: concurrent appends, rotation, torn-tail repair, and a kill -9 in the middle of writing. */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import { FeedbackWriter } from '../src/feedback/writer.js';
import { createApp } from '../src/http/app.js';
import { createMetrics } from '../src/metrics.js';

const require = createRequire(import.meta.url);
const tempDir = () => mkdtemp(path.join(os.tmpdir(), 'rs-feedback-'));
const readLines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');

describe('FeedbackWriter', () => {
  it('writes exactly 200 valid lines for 200 concurrent POST /feedback', async () => {
    const dir = await tempDir();
    const feedback = new FeedbackWriter(dir, 10 * 1024 * 1024);
    const app = createApp({
      state: { model: null, predictor: null },
      metrics: createMetrics(false),
      feedback,
      log: pino({ level: 'silent' }),
      serviceVersion: 'test',
    });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(app)
          .post('/feedback')
          .send({ text: `review number ${i} ${'x'.repeat(i * 20)}`, label: i % 2 }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    await feedback.close();
    const lines = await readLines(path.join(dir, 'feedback.jsonl'));
    expect(lines).toHaveLength(200);
    const texts = lines.map((l) => JSON.parse(l).text.split(' ').slice(0, 3).join(' ')).sort();
    expect(texts).toEqual(Array.from({ length: 200 }, (_, i) => `review number ${i}`).sort());
  });

  it('rotates the file past the size limit', async () => {
    const dir = await tempDir();
    const writer = new FeedbackWriter(dir, 300);
    for (let i = 0; i < 10; i++)
      await writer.append({ text: `r${i} ${'y'.repeat(60)}`, label: 1, time: 't' });
    await writer.close();
    const files = (await readdir(dir)).sort();
    expect(files.length).toBeGreaterThan(2);
    expect(files).toContain('feedback.jsonl');
    for (const f of files) expect(f).toMatch(/^feedback(-\d{8}T\d{6}Z(-\d+)?)?\.jsonl$/);
    const all = (await Promise.all(files.map((f) => readLines(path.join(dir, f))))).flat();
    expect(all.map((l) => JSON.parse(l).text.split(' ')[0]).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${i}`).sort(),
    );
    for (const f of files) expect((await readFile(path.join(dir, f))).length).toBeLessThanOrEqual(300);
  });

  it('cuts a torn last line when it opens the file', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'feedback.jsonl'), '{"text":"ok","label":1}\n{"text":"tor');
    const writer = new FeedbackWriter(dir, 1024);
    await writer.append({ text: 'next', label: 0, time: 't' });
    await writer.close();
    expect(await readLines(path.join(dir, 'feedback.jsonl'))).toEqual([
      '{"text":"ok","label":1}',
      '{"text":"next","label":0,"time":"t"}',
    ]);
  });

  it('refuses appends after close', async () => {
    const writer = new FeedbackWriter(await tempDir(), 1024);
    await writer.close();
    await expect(writer.append({ text: 'late', label: 1, time: 't' })).rejects.toThrow(
      'feedback writer is closed',
    );
  });

  it('leaves only whole lines when the writing process is killed with SIGKILL', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = await tempDir();
      const child = spawn(
        process.execPath,
        [
          '--import',
          pathToFileURL(require.resolve('tsx')).href,
          'model-service/test/support/feedback-child.ts',
        ],
        { env: { ...process.env, FEEDBACK_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + round * 100));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      expect(await exited).toBeNull(); // exit code null: killed by the signal
      // Each line goes out in one write(2) call, which a signal cannot split: the file ends with a newline
      // and every line parses.
      const raw = await readFile(path.join(dir, 'feedback.jsonl'), 'utf8');
      expect(raw.endsWith('\n')).toBe(true);
      const lines = raw.slice(0, -1).split('\n');
      expect(lines.length).toBeGreaterThan(8);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      // And the writer carries on after a restart.
      const writer = new FeedbackWriter(dir, 1024 * 1024 * 1024);
      await writer.append({ text: 'after restart', label: 1, time: 't' });
      await writer.close();
      for (const line of await readLines(path.join(dir, 'feedback.jsonl')))
        expect(() => JSON.parse(line)).not.toThrow();
    }
  });
});
