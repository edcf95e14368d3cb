/**
 * User feedback written by model-service into the feedback folder (`FEEDBACK_DIR`), and how the prepare
 * stage merges it into the training set.
 *
 * Files: every `feedback*.jsonl` in the folder. Current model-service writes one live file per process,
 * `feedback-<writerId>.jsonl`, rotated to `feedback-<writerId>-<UTC timestamp>-<seq>.jsonl`; older
 * deployments wrote `feedback.jsonl` rotated to `feedback-<UTC time>[-n].jsonl`. Each line is one JSON
 * object `{text, label: 0|1, predictedLabel?, modelVersion?, time}` with `time` the ISO-8601 instant
 * model-service received it. Records are ordered by `time`, then file name, then line number, so "the
 * later label wins" is well defined across writers.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { normalizeText, textKey, type LabelledRow } from './dataset.js';

/** File names the pipeline reads from the feedback folder. */
export const FEEDBACK_FILE_PATTERN = /^feedback.*\.jsonl$/;

/** One valid feedback line, with where it came from. */
export interface FeedbackRecord {
  /** The review text as written (not normalized). */
  text: string;
  label: 0 | 1;
  /** The line's `time` field (ISO-8601). */
  time: string;
  /** `time` in ms since the epoch (UTC). */
  timeMs: number;
  /** File name inside the feedback folder. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
}

/** Lines that were not usable feedback records, by reason. */
export interface FeedbackRejected {
  /** Not a JSON object (includes a torn last line of a file being written). */
  invalid_json: number;
  /** `label` other than the numbers 0 or 1. */
  invalid_label: number;
  /** `text` missing, not a string, or only whitespace. */
  empty_text: number;
  /** `time` missing or not an ISO-8601 date-time with a time zone. */
  invalid_time: number;
}

/** Result of {@link readFeedbackDir}. */
export interface FeedbackRead {
  /** False when the folder does not exist (no feedback yet: not an error). */
  found: boolean;
  /** Names of the files read, sorted. */
  files: string[];
  /** Non-empty lines read, valid or not (= records.length + the rejected counts). */
  lines: number;
  /** Valid records, oldest first: by time, then file name, then line. */
  records: FeedbackRecord[];
  rejected: FeedbackRejected;
}

/** ISO-8601 date-time with seconds and an explicit zone, as `Date.prototype.toISOString` writes it. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses the lines of one feedback file; bad lines are counted in `rejected`, never thrown.
 * @returns the valid records in line order and the number of non-empty lines.
 */
export function parseFeedbackLines(
  file: string,
  content: string,
  rejected: FeedbackRejected,
): { records: FeedbackRecord[]; lines: number } {
  const records: FeedbackRecord[] = [];
  let lines = 0;
  content.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    lines++;
    let entry: unknown;
    try {
      entry = JSON.parse(raw);
    } catch {
      rejected.invalid_json++;
      return;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      rejected.invalid_json++;
      return;
    }
    const { text, label, time } = entry as { text?: unknown; label?: unknown; time?: unknown };
    if (label !== 0 && label !== 1) {
      rejected.invalid_label++;
    } else if (typeof text !== 'string' || normalizeText(text) === '') {
      rejected.empty_text++;
    } else if (typeof time !== 'string' || !ISO_TIME.test(time) || !Number.isFinite(Date.parse(time))) {
      rejected.invalid_time++;
    } else {
      records.push({ text, label, time, timeMs: Date.parse(time), file, line: i + 1 });
    }
  });
  return { records, lines };
}

/** Orders records by time, then file name (code-unit order), then line. */
export function compareFeedback(a: FeedbackRecord, b: FeedbackRecord): number {
  if (a.timeMs !== b.timeMs) return a.timeMs - b.timeMs;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line;
}

async function listFeedbackFiles(dir: string): Promise<string[] | null> {
  try {
    return (await readdir(dir)).filter((name) => FEEDBACK_FILE_PATTERN.test(name)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new PipelineError(`${dir}: cannot read the feedback folder (prepare.feedback.dir): ${code}`);
  }
}

/** One `feedback*.jsonl` file as read. */
export interface FeedbackFile {
  /** File name inside the folder. */
  name: string;
  /** The file's content (UTF-8). */
  content: string;
}

/**
 * Reads the content of every `feedback*.jsonl` file of a feedback folder, as one consistent listing: if
 * model-service rotates a file while it is being read (a file vanishes, or the listing changes), the whole
 * folder is read again, up to 5 times.
 *
 * @param dir the feedback folder (absolute).
 * @returns the files sorted by name, or null when the folder does not exist.
 * @throws PipelineError when the folder or a file cannot be read (other than vanishing mid-read), or when
 *   the folder changed during each of 5 attempts.
 */
export async function readFeedbackFiles(dir: string): Promise<FeedbackFile[] | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const names = await listFeedbackFiles(dir);
    if (names === null) return null;
    const files: FeedbackFile[] = [];
    let vanished = false;
    for (const name of names) {
      try {
        files.push({ name, content: await readFile(path.join(dir, name), 'utf8') });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          vanished = true;
          break;
        }
        throw new PipelineError(`${path.join(dir, name)}: cannot read the feedback file: ${code}`);
      }
    }
    const again = await listFeedbackFiles(dir);
    if (vanished || again === null || again.join('\n') !== names.join('\n')) continue;
    return files;
  }
  throw new PipelineError(`${dir}: the feedback folder kept changing while it was read (5 attempts)`);
}

/**
 * Reads every `feedback*.jsonl` file of a feedback folder ({@link readFeedbackFiles}) and parses its lines.
 *
 * @param dir the feedback folder (absolute).
 * @returns the records ordered oldest first; a missing folder gives `found: false` and no records.
 * @throws PipelineError as {@link readFeedbackFiles} does.
 */
export async function readFeedbackDir(dir: string): Promise<FeedbackRead> {
  const files = await readFeedbackFiles(dir);
  if (files === null) return { found: false, files: [], lines: 0, records: [], rejected: emptyRejected() };
  const rejected = emptyRejected();
  const records: FeedbackRecord[] = [];
  let lines = 0;
  for (const { name, content } of files) {
    const parsed = parseFeedbackLines(name, content, rejected);
    records.push(...parsed.records);
    lines += parsed.lines;
  }
  return { found: true, files: files.map((f) => f.name), lines, records: records.sort(compareFeedback), rejected };
}

/** All rejection counts at zero. */
export function emptyRejected(): FeedbackRejected {
  return { invalid_json: 0, invalid_label: 0, empty_text: 0, invalid_time: 0 };
}

/** Outcome of {@link mergeFeedback}. */
export interface FeedbackMerge {
  /** The training rows: the base rows (labels possibly overridden) in their order, then the added rows. */
  train: LabelledRow[];
  /** Records that a later record for the same text (same textKey) replaced. */
  superseded: number;
  /** Texts new to the dataset, appended to the training set. */
  added: number;
  /** Texts of the training set whose label the feedback changed. */
  overridden: number;
  /** Texts of the training set whose label the feedback confirmed. */
  unchanged: number;
  /** Texts of the test or fresh sets: not used, so those sets stay fixed and never leak into training. */
  held_out: { test: number; fresh: number };
}

/**
 * Merges feedback into the training rows only. For each text (compared by {@link textKey}, the key the
 * dataset deduplicates by) the latest record wins, over earlier records and over the dataset's label.
 * Texts of the test or fresh sets are left out and counted.
 *
 * @param train the training split (normalized texts); not modified.
 * @param heldOut the test split and the fresh rows.
 * @param records feedback records, oldest first (as {@link readFeedbackDir} returns them).
 */
export function mergeFeedback(
  train: readonly LabelledRow[],
  heldOut: { test: readonly LabelledRow[]; fresh: readonly LabelledRow[] },
  records: readonly FeedbackRecord[],
): FeedbackMerge {
  const keys = records.map((record) => textKey(record.text));
  /** The index of the latest record of each text. */
  const latest = new Map(keys.map((key, i) => [key, i]));
  const superseded = records.length - latest.size;
  const testKeys = new Set(heldOut.test.map((r) => textKey(r.text)));
  const freshKeys = new Set(heldOut.fresh.map((r) => textKey(r.text)));
  const trainIndex = new Map(train.map((r, i) => [textKey(r.text), i]));
  const out = train.map((r) => ({ text: r.text, label: r.label }));
  const result: FeedbackMerge = {
    train: out,
    superseded,
    added: 0,
    overridden: 0,
    unchanged: 0,
    held_out: { test: 0, fresh: 0 },
  };
  // The winning records, oldest first: added rows are appended in that order.
  for (const [i, record] of records.entries()) {
    const key = keys[i];
    if (latest.get(key) !== i) continue;
    const index = trainIndex.get(key);
    if (testKeys.has(key)) result.held_out.test++;
    else if (freshKeys.has(key)) result.held_out.fresh++;
    else if (index === undefined) {
      out.push({ text: normalizeText(record.text), label: record.label });
      result.added++;
    } else if (out[index].label !== record.label) {
      out[index] = { text: out[index].text, label: record.label };
      result.overridden++;
    } else {
      result.unchanged++;
    }
  }
  return result;
}
