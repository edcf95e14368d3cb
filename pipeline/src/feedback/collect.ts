/**
 * `npm run feedback:collect`: gathers the user feedback model-service wrote (folders such as a mounted
 * PVC or a `kubectl cp` copy, and the chart's model-service pods, see cluster.ts) into ONE file of the
 * feedback folder, `feedback-collected.jsonl`, that the prepare stage reads like any `feedback*.jsonl`.
 *
 * What happens to every line (the counts of {@link CollectCounts}):
 * 1. Lines are validated with the prepare stage's parser ({@link parseFeedbackLines}); bad lines are
 *    counted by reason (`rejected`) and left out.
 * 2. Deduplication, the rule prepare applies: two records are about the same review when their texts have
 *    the same {@link textKey} (whitespace collapsed, trimmed, lower-cased). Of each text only the LATEST
 *    record is kept, by `time`, then file name, then line ({@link compareFeedback}); ties beyond that go
 *    to the source listed later. Every other record of the text is a `duplicate` when it has the kept
 *    record's label, else `superseded` (the user, or another user, changed the label later).
 * 3. Leakage: a kept text that is in the test set or the fresh set, as prepare computes them from
 *    params.yaml ({@link splitDataset}), is dropped (`leaked.test`, `leaked.fresh`), so user feedback never
 *    reaches, or gets judged against, the evaluation rows.
 * 4. The rest (`kept`) is written one record per line, sorted by time then textKey, each as
 *    `{text, label, predictedLabel?, modelVersion?, time}` with the fields of its original line (text as
 *    written, unknown fields dropped).
 *
 * Invariants: lines = records + the rejected counts; records = duplicates + superseded + leaked.test +
 * leaked.fresh + kept.
 *
 * The output depends only on the sources (the previous collected file in the output folder is never an
 * input), so collecting the same input again gives the same bytes and leaves the file untouched.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import { textKey, type LabelledRow } from '../data/dataset.js';
import {
  compareFeedback,
  emptyRejected,
  parseFeedbackLines,
  readFeedbackFiles,
  type FeedbackFile,
  type FeedbackRecord,
  type FeedbackRejected,
} from '../data/feedback.js';
import { PipelineError } from '../errors.js';

/** Name of the file the collector writes into the feedback folder (matches prepare's `feedback*.jsonl`). */
export const COLLECTED_FILE = 'feedback-collected.jsonl';

/** The feedback files of one place they were read from. */
export interface FeedbackSource {
  /** For the report: `folder <path>` or `pod <namespace>/<name> (...)`. */
  label: string;
  /** The `feedback*.jsonl` files, sorted by name. */
  files: FeedbackFile[];
}

/** What collecting did with every line (see the module doc for the invariants). */
export interface CollectCounts {
  /** Labels of the sources read, in order. */
  sources: string[];
  /** `feedback*.jsonl` files read, over all sources. */
  files: number;
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are not valid records, by reason (prepare's parser). */
  rejected: FeedbackRejected;
  /** Valid records. */
  records: number;
  /** Records of a text whose latest record has the same label. */
  duplicates: number;
  /** Records of a text whose latest record has the other label. */
  superseded: number;
  /** Texts (one latest record each) of the test set and of the fresh set, dropped. */
  leaked: { test: number; fresh: number };
  /** Records written. */
  kept: number;
}

/** The fields of a feedback line the collected file keeps, in this order. */
interface CollectedLine {
  text: string;
  label: 0 | 1;
  predictedLabel?: 0 | 1;
  modelVersion?: string;
  time: string;
}

/** Result of {@link collectFeedback}. */
export interface Collected {
  counts: CollectCounts;
  /** The collected file's content: one JSON object per line, each line ending in "\n" ("" when none). */
  content: string;
}

/** The collected line of a valid record, from its original JSON line. */
function collectedLine(record: FeedbackRecord, original: string): CollectedLine {
  const entry = JSON.parse(original) as Record<string, unknown>;
  return {
    text: record.text,
    label: record.label,
    ...(entry.predictedLabel === 0 || entry.predictedLabel === 1
      ? { predictedLabel: entry.predictedLabel }
      : {}),
    ...(typeof entry.modelVersion === 'string' ? { modelVersion: entry.modelVersion } : {}),
    time: record.time,
  };
}

/**
 * Validates, deduplicates and filters feedback (steps 1–4 of the module doc). Pure: reads nothing.
 * @param sources files to read, in order (the order only breaks ties of identical time, file and line).
 * @param heldOut the test and fresh rows as prepare makes them ({@link splitDataset}).
 */
export function collectFeedback(
  sources: readonly FeedbackSource[],
  heldOut: { test: readonly LabelledRow[]; fresh: readonly LabelledRow[] },
): Collected {
  const rejected = emptyRejected();
  const records: { record: FeedbackRecord; original: string; order: number }[] = [];
  let lines = 0;
  let files = 0;
  for (const source of sources) {
    for (const file of source.files) {
      files++;
      const parsed = parseFeedbackLines(file.name, file.content, rejected);
      lines += parsed.lines;
      const raw = file.content.split('\n');
      for (const record of parsed.records) {
        records.push({ record, original: raw[record.line - 1], order: records.length });
      }
    }
  }
  records.sort((a, b) => compareFeedback(a.record, b.record) || a.order - b.order);

  /** The latest record of each text. */
  const latest = new Map<string, (typeof records)[number]>();
  for (const entry of records) latest.set(textKey(entry.record.text), entry);
  let duplicates = 0;
  let superseded = 0;
  for (const entry of records) {
    const kept = latest.get(textKey(entry.record.text))!;
    if (kept === entry) continue;
    if (kept.record.label === entry.record.label) duplicates++;
    else superseded++;
  }

  const testKeys = new Set(heldOut.test.map((r) => textKey(r.text)));
  const freshKeys = new Set(heldOut.fresh.map((r) => textKey(r.text)));
  const leaked = { test: 0, fresh: 0 };
  const kept: { key: string; timeMs: number; line: CollectedLine }[] = [];
  for (const [key, entry] of latest) {
    if (testKeys.has(key)) leaked.test++;
    else if (freshKeys.has(key)) leaked.fresh++;
    else kept.push({ key, timeMs: entry.record.timeMs, line: collectedLine(entry.record, entry.original) });
  }
  kept.sort((a, b) => a.timeMs - b.timeMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    counts: {
      sources: sources.map((s) => s.label),
      files,
      lines,
      rejected,
      records: records.length,
      duplicates,
      superseded,
      leaked,
      kept: kept.length,
    },
    content: kept.map((k) => JSON.stringify(k.line) + '\n').join(''),
  };
}

/**
 * Reads a folder of feedback files as a source. The file `skip` (absolute path), when it is in this
 * folder, is not read: the collected file is never its own input.
 * @throws PipelineError when the folder does not exist, is not a folder, or a file cannot be read.
 */
export async function readFolderSource(dir: string, skip?: string): Promise<FeedbackSource> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new PipelineError(
      error.code === 'ENOENT' ? `${dir}: no such folder` : `${dir}: cannot read the folder: ${error.code}`,
    );
  });
  if (!info.isDirectory()) throw new PipelineError(`${dir}: not a folder`);
  const files = (await readFeedbackFiles(dir)) ?? [];
  return {
    label: `folder ${dir}`,
    files: files.filter((f) => skip === undefined || path.join(dir, f.name) !== skip),
  };
}

/**
 * Writes the collected file atomically (temporary file in the same folder, fsync, rename: a reader sees
 * the old or the new file, never a partial one), creating the folder if needed. When the file already
 * has exactly this content nothing is written (its modification time stays).
 * @returns true when the file was written, false when it already had this content.
 * @throws PipelineError when the folder or file cannot be written (naming the error code).
 */
export async function writeCollected(file: string, content: string): Promise<boolean> {
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing === content) return false;
  try {
    await writeFileAtomic(file, content);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new PipelineError(`${file}: cannot write the collected feedback: ${e.code ?? e.message}`);
  }
  return true;
}
