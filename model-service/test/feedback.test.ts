/**
 * The feedback file: concurrent appends, per-writer files and rotation names, torn-tail repair (logged),
 * failed writes cut back off (injected errors and a real full tmpfs), and a kill -9 in the middle of
 * writing.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import {
  FeedbackUnavailableError,
  FeedbackWriter,
  feedbackWriterId,
  type FeedbackRecord,
} from '../src/feedback/writer.js';
import { createApp } from '../src/http/app.js';
import { createMetrics } from '../src/metrics.js';

const require = createRequire(import.meta.url);
const tempDir = () => mkdtemp(path.join(os.tmpdir(), 'rs-feedback-'));
const readLines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
const record = (text: string, label: 0 | 1 = 1): FeedbackRecord => ({ text, label, time: 't' });
const line = (text: string, label: 0 | 1 = 1) => JSON.stringify(record(text, label)) + '\n';

/** A pino logger whose lines are kept (parsed) in `lines`. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { log, lines };
}

/** Errno-style error. */
/** model-service's HTTP app with no model, storing feedback with `writer`. */
const feedbackApp = (writer: FeedbackWriter) =>
  createApp({
    state: { model: null, predictor: null },
    metrics: createMetrics(false),
    feedback: writer,
    log: pino({ level: 'silent' }),
    serviceVersion: 'test',
  });

const ioError = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/**
 * An `open` whose handles can be made to fail: `faults.write` decides per write call (numbered from 1 per
 * writer) whether to write only half the line and then throw (`'throw'`), write half and report a short
 * count (`'short'`), or write it all and then fail fsync (`'fsync'`); `faults.truncate` makes truncation
 * throw EIO while it returns true.
 */
function faultyOpen(faults: {
  write?: (call: number) => 'throw' | 'short' | 'fsync' | undefined;
  truncate?: () => boolean;
}) {
  let writes = 0;
  let failSync = false;
  return async (file: string, flags: string): Promise<FileHandle> => {
    const handle = await open(file, flags);
    return new Proxy(handle, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return async (buffer: Buffer, offset: number, length: number) => {
            const fault = faults.write?.(++writes);
            if (fault === 'throw' || fault === 'short') {
              await target.write(buffer, offset, Math.floor(length / 2)); // a partial line reaches the disk
              if (fault === 'throw') throw ioError('ENOSPC');
              return { bytesWritten: Math.floor(length / 2), buffer };
            }
            failSync = fault === 'fsync';
            return target.write(buffer, offset, length);
          };
        }
        if (prop === 'datasync') {
          return async () => {
            if (failSync) {
              failSync = false;
              throw ioError('EIO');
            }
            return target.datasync();
          };
        }
        if (prop === 'truncate') {
          return async (len: number) => {
            if (faults.truncate?.()) throw ioError('EIO');
            return target.truncate(len);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

describe('FeedbackWriter', () => {
  it('writes exactly 200 valid lines for 200 concurrent POST /feedback', async () => {
    const dir = await tempDir();
    const feedback = new FeedbackWriter(dir, 10 * 1024 * 1024, { writerId: 'test' });
    const app = feedbackApp(feedback);
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(app)
          .post('/feedback')
          .send({ text: `review number ${i} ${'x'.repeat(i * 20)}`, label: i % 2 }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    await feedback.close();
    expect(await readdir(dir)).toEqual(['feedback-test.jsonl']);
    const lines = await readLines(path.join(dir, 'feedback-test.jsonl'));
    expect(lines).toHaveLength(200);
    const texts = lines.map((l) => JSON.parse(l).text.split(' ').slice(0, 3).join(' ')).sort();
    expect(texts).toEqual(Array.from({ length: 200 }, (_, i) => `review number ${i}`).sort());
  });

  it('names its file after FEEDBACK_WRITER_ID, sanitized, else <hostname>-<pid>', () => {
    expect(feedbackWriterId('model-service-7f9c-abcde')).toBe('model-service-7f9c-abcde');
    expect(feedbackWriterId('pod/ä b:1')).toBe('pod___b_1');
    expect(feedbackWriterId('x'.repeat(150))).toBe('x'.repeat(100));
    const host = `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, '_');
    expect(feedbackWriterId()).toBe(host);
    expect(feedbackWriterId('  ')).toBe(host);
    expect(new FeedbackWriter('/srv/fb', 1).file).toBe(`/srv/fb/feedback-${host}.jsonl`);
    expect(new FeedbackWriter('/srv/fb', 1, { writerId: '../etc/x' }).file).toBe(
      '/srv/fb/feedback-.._etc_x.jsonl',
    );
  });

  it('rotates past the size limit to names that never collide, even in the same second or after a restart', async () => {
    const dir = await tempDir();
    const now = () => Date.parse('2026-11-30T10:15:42.123Z'); // every rotation in the same second
    // A file left by an earlier process with the same id (a restarted pod) must not be overwritten.
    await writeFile(path.join(dir, 'feedback-w1-20261130T101542Z-2.jsonl'), line('from before'));
    const writer = new FeedbackWriter(dir, 300, { writerId: 'w1', now });
    for (let i = 0; i < 10; i++) await writer.append(record(`r${i} ${'y'.repeat(60)}`));
    await writer.close();
    // 10 lines of 90 bytes, 3 to a file: 3 rotations, 1 line left in the live file.
    expect((await readdir(dir)).sort()).toEqual([
      'feedback-w1-20261130T101542Z-1.jsonl',
      'feedback-w1-20261130T101542Z-2.jsonl',
      'feedback-w1-20261130T101542Z-3.jsonl',
      'feedback-w1-20261130T101542Z-4.jsonl',
      'feedback-w1.jsonl',
    ]);
    const read = (name: string) => readFile(path.join(dir, name), 'utf8');
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => line(`r${from + k} ${'y'.repeat(60)}`)).join('');
    expect(await read('feedback-w1-20261130T101542Z-1.jsonl')).toBe(rows(0, 3));
    expect(await read('feedback-w1-20261130T101542Z-2.jsonl')).toBe(line('from before'));
    expect(await read('feedback-w1-20261130T101542Z-3.jsonl')).toBe(rows(3, 6));
    expect(await read('feedback-w1-20261130T101542Z-4.jsonl')).toBe(rows(6, 9));
    expect(await read('feedback-w1.jsonl')).toBe(rows(9, 10));
  });

  it('cuts a torn last line when it opens the file, and logs how many bytes it cut (not the text)', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'feedback-w.jsonl'), '{"text":"ok","label":1}\n{"text":"secret tor');
    const { log, lines } = recordingLog();
    const writer = new FeedbackWriter(dir, 1024, { writerId: 'w', log });
    await writer.append({ text: 'next', label: 0, time: 't' });
    await writer.close();
    expect(await readFile(path.join(dir, 'feedback-w.jsonl'), 'utf8')).toBe(
      '{"text":"ok","label":1}\n{"text":"next","label":0,"time":"t"}\n',
    );
    expect(
      lines.map(({ level, msg, file, bytesCut, keptBytes }) => ({ level, msg, file, bytesCut, keptBytes })),
    ).toEqual([
      {
        level: 40,
        msg: 'cut a torn last line off the feedback file (a write was interrupted)',
        file: path.join(dir, 'feedback-w.jsonl'),
        bytesCut: 19,
        keptBytes: 24,
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('cuts a torn file without any newline to empty', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'feedback-w.jsonl'), '{"text":"half');
    const writer = new FeedbackWriter(dir, 1024, { writerId: 'w' });
    await writer.append(record('whole'));
    await writer.close();
    expect(await readFile(path.join(dir, 'feedback-w.jsonl'), 'utf8')).toBe(line('whole'));
  });

  it('refuses appends after close', async () => {
    const writer = new FeedbackWriter(await tempDir(), 1024);
    await writer.close();
    const error = await writer.append(record('late')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedbackUnavailableError);
    expect((error as Error).message).toBe('feedback writer is closed');
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
        {
          env: { ...process.env, FEEDBACK_DIR: dir, FEEDBACK_WRITER_ID: 'kill' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + round * 100));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      expect(await exited).toBeNull(); // exit code null: killed by the signal
      // Each line goes out in one write(2) call, which a signal cannot split: the file ends with a newline
      // and every line parses.
      const file = path.join(dir, 'feedback-kill.jsonl');
      const raw = await readFile(file, 'utf8');
      expect(raw.endsWith('\n')).toBe(true);
      const lines = raw.slice(0, -1).split('\n');
      expect(lines.length).toBeGreaterThan(8);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      // And the writer carries on after a restart.
      const writer = new FeedbackWriter(dir, 1024 * 1024 * 1024, { writerId: 'kill' });
      await writer.append(record('after restart'));
      await writer.close();
      const after = await readLines(file);
      expect(after).toHaveLength(lines.length + 1);
      expect(JSON.parse(after[after.length - 1]).text).toBe('after restart');
    }
  });
});

describe('a failed write (injected I/O errors)', () => {
  it.each([
    ['ENOSPC after half the line', 'throw', 'ENOSPC'],
    ['a short write', 'short', 'ENOSPC'],
    ['a failed fsync after the whole line', 'fsync', 'EIO'],
  ] as Array<[string, 'throw' | 'short' | 'fsync', string]>)(
    'cuts %s back off, answers 503, and the next line is whole',
    async (_what, fault, code) => {
      const dir = await tempDir();
      const { log, lines } = recordingLog();
      const writer = new FeedbackWriter(dir, 1024 * 1024, {
        writerId: 'w',
        log,
        openFile: faultyOpen({ write: (call) => (call === 2 ? fault : undefined) }),
      });
      const app = feedbackApp(writer);
      const post = (text: string) => request(app).post('/feedback').send({ text, label: 1 });
      expect((await post('first')).status).toBe(201);
      const failed = await post('second, lost to the failure');
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({
        error: 'feedback_unavailable',
        detail: `feedback could not be stored (${code}); nothing was recorded, retry later`,
      });
      expect((await post('third')).status).toBe(201);
      await writer.close();
      const stored = (await readLines(path.join(dir, 'feedback-w.jsonl'))).map((l) => JSON.parse(l));
      expect(stored.map((r) => [r.text, r.label])).toEqual([
        ['first', 1],
        ['third', 1],
      ]);
      expect(lines.map(({ level, msg, err }) => ({ level, msg, err }))).toEqual([
        { level: 50, msg: 'feedback write failed; cut the file back to its last complete line', err: code },
      ]);
      expect(JSON.stringify(lines)).not.toContain('second');
    },
  );

  it('refuses feedback (503) while the partial line cannot be cut off, and resumes once it can', async () => {
    const dir = await tempDir();
    let truncateFails = true;
    const { log, lines } = recordingLog();
    const writer = new FeedbackWriter(dir, 1024 * 1024, {
      writerId: 'w',
      log,
      openFile: faultyOpen({
        write: (call) => (call === 2 ? 'throw' : undefined),
        truncate: () => truncateFails,
      }),
    });
    const app = feedbackApp(writer);
    const post = (text: string) => request(app).post('/feedback').send({ text, label: 0 });
    expect((await post('one')).status).toBe(201);
    expect((await post('two')).body).toEqual({
      error: 'feedback_unavailable',
      detail: 'feedback could not be stored (ENOSPC); nothing was recorded, retry later',
    });
    const refused = await post('three');
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      error: 'feedback_unavailable',
      detail:
        'feedback storage is failing (EIO) and refuses feedback until its file can be repaired; nothing was recorded',
    });
    // While refusing, nothing was appended after the partial line: one whole line and half of "two" (its
    // 59 bytes with a 24-character ISO time, so 29).
    expect(await readFile(path.join(dir, 'feedback-w.jsonl'), 'utf8')).toMatch(
      /^\{"text":"one","label":0,"time":"[\d-]{10}T[\d:.]{12}Z"\}\n\{"text":"two","label":0,"time$/,
    );

    truncateFails = false;
    expect((await post('four')).status).toBe(201);
    await writer.close();
    const stored = (await readLines(path.join(dir, 'feedback-w.jsonl'))).map((l) => JSON.parse(l).text);
    expect(stored).toEqual(['one', 'four']);
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([
      {
        level: 50,
        msg: 'feedback write failed and the partial line could not be cut off; refusing feedback until it can be',
      },
      { level: 40, msg: 'feedback file repaired; accepting feedback again' },
    ]);
  });
});

/** Mounts a tmpfs of `size` on a new temp folder, or says why it cannot (mount needs root). */
function tryMountTmpfs(size: string): { dir: string } | { skip: string } {
  const dir = path.join(os.tmpdir(), `rs-feedback-tmpfs-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    return { skip: `cannot mount a tmpfs (${(error as Error).message.split('\n')[0]}); needs root` };
  }
}

describe('a full disk (a real 64 KiB tmpfs)', () => {
  const mounted = tryMountTmpfs('64k');
  const skip = 'skip' in mounted ? mounted.skip : null;
  if (skip) console.warn(`skipping the full-disk test: ${skip}`);
  afterAll(() => {
    if (skip) return;
    execFileSync('umount', [(mounted as { dir: string }).dir]);
    execFileSync('rmdir', [(mounted as { dir: string }).dir]);
  });

  (skip ? it.skip : it)(
    'keeps every acknowledged line whole: the partial line of ENOSPC is cut, writing resumes when space is freed',
    async () => {
      const { dir } = mounted as { dir: string };
      const filler = path.join(dir, 'filler');
      await writeFile(filler, Buffer.alloc(16 * 1024, 1)); // freed later to make room again
      const feedbackDir = path.join(dir, 'feedback');
      await mkdir(feedbackDir);
      const { log, lines } = recordingLog();
      const writer = new FeedbackWriter(feedbackDir, 1024 * 1024, { writerId: 'tmpfs', log });
      const acknowledged: string[] = [];
      const failures: string[] = [];
      for (let i = 0; i < 120 && failures.length < 3; i++) {
        const text = `review ${i} ${'é'.repeat(500)}`; // ~1 KiB lines: one lands across the last free page
        try {
          await writer.append(record(text));
          acknowledged.push(text);
        } catch (error) {
          expect(error).toBeInstanceOf(FeedbackUnavailableError);
          failures.push((error as Error).message);
        }
      }
      expect(acknowledged.length).toBeGreaterThan(20);
      expect(failures).toEqual(
        Array(3).fill('feedback could not be stored (ENOSPC); nothing was recorded, retry later'),
      );
      const file = path.join(feedbackDir, 'feedback-tmpfs.jsonl');
      // Right after the failures the file holds exactly the acknowledged lines.
      expect(await readFile(file, 'utf8')).toBe(acknowledged.map((t) => line(t)).join(''));

      await rm(filler);
      for (const text of ['after the disk was freed 1', 'after the disk was freed 2']) {
        await writer.append(record(text));
        acknowledged.push(text);
      }
      await writer.close();
      const raw = await readFile(file, 'utf8');
      expect(raw).toBe(acknowledged.map((t) => line(t)).join(''));
      for (const l of raw.slice(0, -1).split('\n')) expect(() => JSON.parse(l)).not.toThrow();
      expect(lines.filter((l) => l.level === 50).map((l) => [l.msg, l.err])).toEqual(
        Array(3).fill(['feedback write failed; cut the file back to its last complete line', 'ENOSPC']),
      );
    },
  );
});
