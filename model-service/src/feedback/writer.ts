/**
 * Appends user feedback to `feedback.jsonl`, one JSON object per line, in the format the pipeline's
 * prepare stage reads (`{text, label, ...}`).
 *
 * Safety: writes are serialized in this process (a promise chain), each line goes to the file in one
 * `write` call on a descriptor opened with O_APPEND and is fsync'ed before the caller is answered, so
 * lines never interleave and an answered feedback survives a crash. A torn last line (power loss, or a
 * kill in the middle of a write) is cut off when the file is next opened. Past `maxBytes` the file is
 * rotated to `feedback-<UTC timestamp>.jsonl` and a new one started.
 */
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Name of the live feedback file. */
export const FEEDBACK_FILE = 'feedback.jsonl';

/** One feedback record (a line). */
export interface FeedbackRecord {
  text: string;
  label: 0 | 1;
  predictedLabel?: 0 | 1;
  modelVersion?: string;
  /** ISO-8601 time it was received. */
  time: string;
}

/** Serialized, durable, rotating appender of feedback lines. */
export class FeedbackWriter {
  private handle: FileHandle | null = null;
  private size = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /**
   * @param dir folder of feedback.jsonl (created if missing).
   * @param maxBytes rotate before a write would make the file larger than this.
   */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Path of the live file. */
  get file(): string {
    return path.join(this.dir, FEEDBACK_FILE);
  }

  /**
   * Appends one record durably (fsync'ed before resolving).
   * @throws Error after close(), or on I/O failure (the record is then not written).
   */
  append(record: FeedbackRecord): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const task = this.chain.then(() => this.write(line));
    this.chain = task.catch(() => {});
    return task;
  }

  /**
   * Opens (creating the folder and file if needed) now rather than on the first append.
   * @throws Error when the folder or file cannot be created or opened.
   */
  open(): Promise<void> {
    const task = this.chain.then(() => (this.handle ? undefined : this.openFile()));
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
    if (this.closed) throw new Error('feedback writer is closed');
    if (!this.handle) await this.openFile();
    if (this.size > 0 && this.size + line.length > this.maxBytes) await this.rotate();
    const { bytesWritten } = await this.handle!.write(line, 0, line.length);
    if (bytesWritten !== line.length) throw new Error(`short write to ${this.file}`);
    this.size += line.length;
    await this.handle!.datasync();
  }

  private async openFile(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.repairTail();
    this.handle = await open(this.file, 'a');
    this.size = (await this.handle.stat()).size;
  }

  /** Cuts a torn last line (no trailing newline) left by a crash mid-write. */
  private async repairTail(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'r+');
    } catch {
      return;
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return;
      const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
      await handle.read(chunk, 0, chunk.length, size - chunk.length);
      if (chunk[chunk.length - 1] === 0x0a) return;
      const lastNewline = chunk.lastIndexOf(0x0a);
      const keep =
        lastNewline === -1
          ? size > chunk.length
            ? size - chunk.length
            : 0
          : size - chunk.length + lastNewline + 1;
      await handle.truncate(keep);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  private async rotate(): Promise<void> {
    await this.handle!.close();
    this.handle = null;
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    let target = path.join(this.dir, `feedback-${stamp}.jsonl`);
    for (
      let i = 1;
      await stat(target).then(
        () => true,
        () => false,
      );
      i++
    ) {
      target = path.join(this.dir, `feedback-${stamp}-${i}.jsonl`);
    }
    await rename(this.file, target);
    this.handle = await open(this.file, 'a');
    this.size = 0;
  }
}
