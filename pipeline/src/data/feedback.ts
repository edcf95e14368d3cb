/**
 * User feedback rows written by model-service to `feedback.jsonl`: one JSON object per line with at least
 * `{text: string, label: 0|1}` (other fields such as predictedLabel, modelVersion, time are ignored).
 */
import { readFile } from 'node:fs/promises';
import { PipelineError } from '../errors.js';
import type { LabelledRow } from './dataset.js';

/** Feedback rows read, and what was rejected. */
export interface FeedbackRows {
  rows: LabelledRow[];
  /** Lines rejected: not JSON, no text, or a label other than 0/1. */
  rejected: { invalid_json: number; invalid_label: number; empty_text: number };
}

/**
 * Reads a feedback JSONL file; bad lines are rejected and counted, never fatal.
 * @throws PipelineError when the file cannot be read.
 */
export async function readFeedback(file: string): Promise<FeedbackRows> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PipelineError(`${file}: cannot read the feedback file (prepare.feedback.path)`);
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
