/**
 * Appends user feedback to `feedback-<writerId>.jsonl` in FEEDBACK_DIR, one JSON object per line, in the
 * format the pipeline's prepare stage reads (`{text, label, ..., time}`; it reads every `feedback*.jsonl`
 * of the folder and orders the records by `time`).
 *
 * One file per process: `writerId` is FEEDBACK_WRITER_ID (the pod name in the cluster), else
 * `<hostname>-<pid>`, so processes sharing a folder (stable and canary on one volume) never write, cut or
 * rotate each other's file. Past `maxBytes` the file is renamed to
 * `feedback-<writerId>-<UTC timestamp>-<seq>.jsonl` (never an existing name) and a new one started.
 *
 * Safety: writes are serialized in this process (a promise chain), each line goes to the file in one
 * `write` call on a descriptor opened with O_APPEND and is fsync'ed before the caller is answered, so
 * lines never interleave and an answered feedback survives a crash.
 * - A write that fails (ENOSPC, EIO, a short write, a failed fsync) is cut back off: the file is
 *   truncated to its size before the write, so the next line does not get glued to a partial one, and the
 *   caller gets {@link FeedbackUnavailableError} (nothing recorded). If that truncation fails too, the
 *   writer refuses every append (FeedbackUnavailableError) until a later append manages to truncate.
 * - A torn last line (power loss, or a kill in the middle of a write) is cut off when the file is next
 *   opened, with a warning that gives the bytes cut (never the text).
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';

/** Prefix of every feedback file name (`feedback*.jsonl` is what the pipeline reads). */
export const FEEDBACK_FILE_PREFIX = 'feedback';

/** Longest writer id kept in file names (characters). */
export const MAX_WRITER_ID_LENGTH = 100;

/** One feedback record (a line). */
export interface FeedbackRecord {
  text: string;
  label: 0 | 1;
  predictedLabel?: 0 | 1;
  modelVersion?: string;
  /** ISO-8601 time it was received (the pipeline orders records of all files by it). */
  time: string;
}

/** The record was not stored (the message says why; it never contains review text). */
export class FeedbackUnavailableError extends Error {
  override name = 'FeedbackUnavailableError';
}

/**
 * The writer id used in file names: `raw` (FEEDBACK_WRITER_ID), else `<hostname>-<pid>`, with every
 * character outside [A-Za-z0-9_.-] replaced by "_", cut to {@link MAX_WRITER_ID_LENGTH} characters.
 */
export function feedbackWriterId(raw?: string): string {
  const id = (raw && raw.trim() !== '' ? raw.trim() : `${os.hostname()}-${process.pid}`)
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, MAX_WRITER_ID_LENGTH);
  return id === '' ? `pid-${process.pid}` : id;
}

/** Options of {@link FeedbackWriter}. */
export interface FeedbackWriterOptions {
  /** FEEDBACK_WRITER_ID (sanitized by {@link feedbackWriterId}; default `<hostname>-<pid>`). */
  writerId?: string;
  /** Where repairs and failures are logged (default: nowhere). */
  log?: Logger;
  /** Opens a file (default fs.promises.open); tests inject failing handles. */
  openFile?: (file: string, flags: string) => Promise<FileHandle>;
  /** Clock of rotation names (default Date.now). */
  now?: () => number;
}

/** An errno code or message of an I/O error, for logs and answers. */
function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(error);
}

/** Serialized, durable, rotating appender of feedback lines (see the module doc). */
export class FeedbackWriter {
  /** The sanitized writer id in this writer's file names. */
  readonly writerId: string;
  private readonly log: Logger;
  private readonly openFile: (file: string, flags: string) => Promise<FileHandle>;
  private readonly now: () => number;
  private handle: FileHandle | null = null;
  /** Bytes in the live file (all complete lines). */
  private size = 0;
  /** Rotations done by this writer (the `<seq>` of the next rotated name is this + 1). */
  private rotations = 0;
  /** Set when a failed write could not be cut back off: the size the file must be truncated to. */
  private brokenAt: { size: number; reason: string } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /**
   * @param dir folder of the feedback files (created if missing).
   * @param maxBytes rotate before a write would make the live file larger than this (bytes).
   */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    options: FeedbackWriterOptions = {},
  ) {
    this.writerId = feedbackWriterId(options.writerId);
    this.log = options.log ?? pino({ level: 'silent' });
    this.openFile = options.openFile ?? ((file, flags) => open(file, flags));
    this.now = options.now ?? Date.now;
  }

  /** Path of the live file, `<dir>/feedback-<writerId>.jsonl`. */
  get file(): string {
    return path.join(this.dir, `${FEEDBACK_FILE_PREFIX}-${this.writerId}.jsonl`);
  }

  /**
   * Appends one record durably (fsync'ed before resolving).
   * @throws FeedbackUnavailableError when the record was not stored: after close(), on an I/O failure
   *   (the partial line is cut off again), or while a failed write could not be cut off.
   */
  append(record: FeedbackRecord): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const task = this.chain.then(() => this.write(line));
    this.chain = task.catch(() => {});
    return task;
  }

  /**
   * Checks now rather than on the first append that feedback can be written: creates the folder, checks
   * it is writable, and opens this writer's file when it exists (cutting a torn tail). A missing file is
   * created by the first append, so a process that never receives feedback leaves no empty file.
   * @throws Error when the folder cannot be created or written, or the file cannot be opened.
   */
  open(): Promise<void> {
    const task = this.chain.then(async () => {
      if (this.handle) return;
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.W_OK);
      const exists = await stat(this.file).then(
        () => true,
        () => false,
      );
      if (exists) await this.openLive();
    });
    this.chain = task.catch(() => {});
    return task;
  }

  /** Waits for pending writes, then closes the file. Later appends fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    await this.handle?.close();
    this.handle = null;
  }

  private async write(line: Buffer): Promise<void> {
    if (this.closed) throw new FeedbackUnavailableError('feedback writer is closed');
    try {
      if (this.brokenAt) await this.repair();
      if (!this.handle) await this.openLive();
      if (this.size > 0 && this.size + line.length > this.maxBytes) await this.rotate();
    } catch (error) {
      if (error instanceof FeedbackUnavailableError) throw error;
      this.log.error({ file: this.file, err: describeError(error) }, 'feedback file cannot be opened');
      throw new FeedbackUnavailableError(
        `feedback could not be stored (${describeError(error)}); nothing was recorded, retry later`,
      );
    }
    const handle = this.handle!;
    const before = this.size;
    try {
      const { bytesWritten } = await handle.write(line, 0, line.length);
      if (bytesWritten !== line.length) {
        throw Object.assign(new Error(`short write: ${bytesWritten} of ${line.length} bytes`), {
          code: 'ENOSPC',
        });
      }
      await handle.datasync();
    } catch (error) {
      await this.rollBack(handle, before, line.length, error);
      throw new FeedbackUnavailableError(
        `feedback could not be stored (${describeError(error)}); nothing was recorded, retry later`,
      );
    }
    this.size = before + line.length;
  }

  /** Cuts a failed write off the file (back to `size` bytes); on failure refuses appends until repaired. */
  private async rollBack(handle: FileHandle, size: number, lineBytes: number, cause: unknown): Promise<void> {
    try {
      await handle.truncate(size);
      await handle.datasync();
      this.log.error(
        { file: this.file, err: describeError(cause), lineBytes, keptBytes: size },
        'feedback write failed; cut the file back to its last complete line',
      );
    } catch (error) {
      this.brokenAt = { size, reason: describeError(error) };
      this.log.error(
        { file: this.file, err: describeError(cause), truncateErr: describeError(error), keptBytes: size },
        'feedback write failed and the partial line could not be cut off; refusing feedback until it can be',
      );
    }
  }

  /** Retries the truncation of a failed write; throws FeedbackUnavailableError while it still fails. */
  private async repair(): Promise<void> {
    const broken = this.brokenAt!;
    try {
      await this.handle!.truncate(broken.size);
      await this.handle!.datasync();
    } catch (error) {
      throw new FeedbackUnavailableError(
        `feedback storage is failing (${describeError(error)}) and refuses feedback until its file can be repaired; nothing was recorded`,
      );
    }
    this.brokenAt = null;
    this.size = broken.size;
    this.log.warn(
      { file: this.file, keptBytes: broken.size },
      'feedback file repaired; accepting feedback again',
    );
  }

  private async openLive(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.repairTail();
    this.handle = await this.openFile(this.file, 'a');
    this.size = (await this.handle.stat()).size;
  }

  /** Cuts a torn last line (bytes after the last newline) left by a crash mid-write, with a warning. */
  private async repairTail(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await this.openFile(this.file, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      // Search backwards, 64 KiB at a time, for the last newline; keep everything up to it.
      const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
      let keep = 0;
      for (let end = size; end > 0;) {
        const start = Math.max(0, end - chunk.length);
        await handle.read(chunk, 0, end - start, start);
        const newline = chunk.subarray(0, end - start).lastIndexOf(0x0a);
        if (newline !== -1) {
          keep = start + newline + 1;
          break;
        }
        end = start;
      }
      if (keep === size) return;
      await handle.truncate(keep);
      await handle.datasync();
      this.log.warn(
        { file: this.file, bytesCut: size - keep, keptBytes: keep },
        'cut a torn last line off the feedback file (a write was interrupted)',
      );
    } finally {
      await handle.close();
    }
  }

  /** Renames the live file to `feedback-<writerId>-<UTC timestamp>-<seq>.jsonl` and starts a new one. */
  private async rotate(): Promise<void> {
    await this.handle!.close();
    this.handle = null;
    const stamp = new Date(this.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    let target: string;
    do {
      this.rotations++;
      target = path.join(
        this.dir,
        `${FEEDBACK_FILE_PREFIX}-${this.writerId}-${stamp}-${this.rotations}.jsonl`,
      );
      // Only this writer makes names with its id: a name free now stays free until the rename.
    } while (
      await stat(target).then(
        () => true,
        () => false,
      )
    );
    await rename(this.file, target);
    this.handle = await this.openFile(this.file, 'a');
    this.size = 0;
  }
}
