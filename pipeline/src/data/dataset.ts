/**
 * Prepared datasets: labelled rows stored as JSON Lines (`{"text": "...", "label": 0|1}` per line), the
 * cleaning step (danfojs-node) and seeded, stratified splits.
 */
import { readFile } from 'node:fs/promises';
import { createRandom, permutation } from '@restaurant-sentiment/lib-ml';
import danfo from 'danfojs-node';
import { PipelineError } from '../errors.js';

/** One labelled review. */
export interface LabelledRow {
  text: string;
  label: 0 | 1;
}

/** Serializes rows as JSON Lines (one object per line, trailing newline). */
export function toJsonl(rows: readonly LabelledRow[]): string {
  return rows.map((r) => JSON.stringify({ text: r.text, label: r.label })).join('\n') + (rows.length ? '\n' : '');
}

/**
 * Reads a prepared JSONL dataset.
 * @throws PipelineError naming the file and line when a line is not a valid row.
 */
export async function readJsonl(file: string): Promise<LabelledRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PipelineError(`${file}: cannot read; run the prepare stage first`);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        const row = JSON.parse(line);
        if (typeof row.text === 'string' && (row.label === 0 || row.label === 1)) return row as LabelledRow;
      } catch {
        /* reported below */
      }
      throw new PipelineError(`${file}: line ${i + 1}: not a {text, label: 0|1} row`);
    });
}

/** Class counts of `rows`. */
export function classBalance(rows: readonly LabelledRow[]): { negative: number; positive: number } {
  const positive = rows.filter((r) => r.label === 1).length;
  return { negative: rows.length - positive, positive };
}

/**
 * The text as stored in the prepared datasets: runs of whitespace collapsed to one space, trimmed.
 */
export function normalizeText(text: string): string {
  return String(text).replace(/\s+/g, ' ').trim();
}

/**
 * The key under which two texts count as the same review (for dropping duplicates and for matching user
 * feedback to dataset rows): {@link normalizeText}, lower-cased.
 */
export function textKey(text: string): string {
  return normalizeText(text).toLowerCase();
}

/** Result of {@link cleanRows}. */
export interface CleanResult<T extends LabelledRow> {
  /** Kept rows, input order, text whitespace-normalized. */
  rows: T[];
  /** Rows dropped because their text (same {@link textKey}) came earlier. */
  duplicates: number;
}

/**
 * Cleans labelled rows with a danfojs-node DataFrame: normalizes the text ({@link normalizeText}), drops
 * rows whose text became empty and later duplicates of a text (same {@link textKey}; the first is kept),
 * and normalizes labels to the integers 0/1.
 * @param rows rows with any extra fields (kept on the output rows).
 */
export function cleanRows<T extends LabelledRow>(rows: readonly T[]): CleanResult<T> & { empty: number } {
  if (rows.length === 0) return { rows: [], duplicates: 0, empty: 0 };
  const df = new danfo.DataFrame({
    text: rows.map((r) => r.text),
    label: rows.map((r) => Number(r.label)),
    position: rows.map((_, i) => i),
  });
  const text = df.column('text').apply((s: string) => normalizeText(s));
  df.addColumn('text', text.values as string[], { inplace: true });
  const texts = df.column('text').values as string[];
  const nonEmpty = texts.map((t) => t !== '');
  const seen = new Set<string>();
  let duplicates = 0;
  const keep = texts.map((t, i) => {
    if (!nonEmpty[i]) return false;
    const key = textKey(t);
    if (seen.has(key)) {
      duplicates++;
      return false;
    }
    seen.add(key);
    return true;
  });
  const empty = nonEmpty.filter((x) => !x).length;
  if (!keep.some(Boolean)) return { rows: [], duplicates, empty };
  const kept = df.loc({ rows: keep });
  const keptText = kept.column('text').values as string[];
  const keptLabel = kept.column('label').values as number[];
  const keptPosition = kept.column('position').values as number[];
  return {
    rows: keptPosition.map((original, i) => ({
      ...rows[original],
      text: keptText[i],
      label: (Number(keptLabel[i]) === 1 ? 1 : 0) as 0 | 1,
    })),
    duplicates,
    empty,
  };
}

/**
 * Seeded stratified split: each class is shuffled and `testSize` of it (rounded) goes to the test set.
 * @param testSize fraction in (0, 1).
 * @returns train and test rows, each in input order.
 */
export function stratifiedSplit<T extends LabelledRow>(
  rows: readonly T[],
  testSize: number,
  seed: number,
): { train: T[]; test: T[] } {
  const random = createRandom(seed);
  const testIdx = new Set<number>();
  for (const cls of [0, 1]) {
    const idx = rows.flatMap((r, i) => (r.label === cls ? [i] : []));
    const order = permutation(idx.length, random);
    const nTest = Math.round(idx.length * testSize);
    order.slice(0, nTest).forEach((p) => testIdx.add(idx[p]));
  }
  return {
    train: rows.filter((_, i) => !testIdx.has(i)),
    test: rows.filter((_, i) => testIdx.has(i)),
  };
}

/**
 * Seeded stratified k-fold assignment: each class is shuffled and dealt round-robin into k folds.
 * @returns k arrays of row indices (disjoint, covering all rows), each sorted ascending.
 * @throws PipelineError when k is below 2 or above the size of the smaller class.
 */
export function stratifiedFolds(labels: readonly number[], k: number, seed: number): number[][] {
  const minority = Math.min(labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length);
  if (k < 2 || k > minority) {
    throw new PipelineError(`cannot make ${k} stratified folds from ${labels.length} rows (smaller class: ${minority})`);
  }
  const random = createRandom(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const cls of [0, 1]) {
    const idx = labels.flatMap((l, i) => (l === cls ? [i] : []));
    permutation(idx.length, random).forEach((p, j) => folds[j % k].push(idx[p]));
  }
  return folds.map((f) => f.sort((a, b) => a - b));
}
