/**
 * User feedback rows written by model-service to `feedback.jsonl`: one JSON object per line with at least
 * `{text: string, label: 0|1}` (other fields such as predictedLabel, modelVersion, time are ignored).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { LabelledRow } from './dataset.js';

/** Feedback rows read, and what was rejected. */
export interface FeedbackRows {
  rows: LabelledRow[];
  /** Lines rejected: not JSON, no text, or a label other than 0/1. */
  rejected: { invalid_json: number; invalid_label: number; empty_text: number };
}

/**
 * The feedback files to read for `file`: the files model-service rotated it to
 * (`<name>-<UTC time>[-n].jsonl`, oldest first) and then the live file itself.
 */
async function feedbackFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const stem = path.basename(file, '.jsonl');
  const rotated = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.startsWith(`${stem}-`) && name.endsWith('.jsonl'))
    .sort();
  return [...rotated.map((name) => path.join(dir, name)), file];
}

/**
 * Reads a feedback JSONL file and the files it was rotated to; bad lines are rejected and counted, never
 * fatal.
 * @throws PipelineError when the live file cannot be read.
 */
export async function readFeedback(file: string): Promise<FeedbackRows> {
  let text = '';
  for (const part of await feedbackFiles(file)) {
    try {
      text += (await readFile(part, 'utf8')) + '\n';
    } catch {
      throw new PipelineError(`${part}: cannot read the feedback file (prepare.feedback.path)`);
    }
  }
  const out: FeedbackRows = { rows: [], rejected: { invalid_json: 0, invalid_label: 0, empty_text: 0 } };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: { text?: unknown; label?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      out.rejected.invalid_json++;
      continue;
    }
    if (entry === null || typeof entry !== 'object') {
      out.rejected.invalid_json++;
    } else if (entry.label !== 0 && entry.label !== 1) {
      out.rejected.invalid_label++;
    } else if (typeof entry.text !== 'string' || entry.text.trim() === '') {
      out.rejected.empty_text++;
    } else {
      out.rows.push({ text: entry.text, label: entry.label });
    }
  }
  return out;
}
