/**
 * Raw labelled reviews: reading and validating the sources named in params.yaml.
 *
 * - The `sentiment` npm package ships the UCI "Sentiment Labelled Sentences" set (Kotzias, Denil,
 *   de Freitas & Smyth, "From Group to Individual Labels using Deep Features", KDD 2015) as JSON records
 *   `{text, class}` in `test/fixtures/{yelp,amazon,imdb}.json`: 1000 labelled sentences each, followed by
 *   one blank terminator record. Files are pinned by sha256.
 * - A TSV in the historic-dump format: header `Review<TAB>Liked`, one review per line, no quoting.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { digest } from '@restaurant-sentiment/lib-ml';
import { PipelineError } from '../errors.js';

/** One validated raw row. */
export interface RawRow {
  text: string;
  label: 0 | 1;
  /** Where the row came from, for messages: 1-based line (TSV) or record (JSON) number. */
  row: number;
}

/** Problems that make a raw row invalid. */
export type RowProblem = 'wrong_columns' | 'invalid_label' | 'empty_text' | 'invalid_utf8';

/** Validated rows of one raw file. */
export interface RawDataset {
  /** The file read (path or URL). */
  file: string;
  /** sha256 of the file's bytes (hex). */
  sha256: string;
  /** Valid rows in file order. */
  rows: RawRow[];
  /** Count of invalid rows dropped, by problem (all zero under the "fail" policy). */
  invalid: Record<RowProblem, number>;
}

/** "fail": throw on the first invalid row; "drop": drop and count it. */
export type InvalidRowPolicy = 'fail' | 'drop';

/** Datasets shipped by the `sentiment` package, pinned by sha256 (version 5.0.2). */
export const PACKAGE_DATASETS = {
  yelp: { file: 'test/fixtures/yelp.json', sha256: '9f3f47983f21eeb819380767b74bfa648eca208f156241111454b3e122773ff7' },
  amazon: {
    file: 'test/fixtures/amazon.json',
    sha256: 'bc5eb0cac49fc45987301f1dc2d02cf5ca356ba6c882be179dce77d74e666ed9',
  },
  imdb: { file: 'test/fixtures/imdb.json', sha256: '44a7b9082ed732ee2de3c858ea5ee2e99aca34f239a1c4359d3a300bf099bdb5' },
} as const;

/** Number of labelled records in each pinned package dataset (the blank terminator record follows). */
export const PACKAGE_DATASET_RECORDS = 1000;

/** Lowercase hex sha256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return digest(data).sha256;
}

function emptyCounts(): Record<RowProblem, number> {
  return { wrong_columns: 0, invalid_label: 0, empty_text: 0, invalid_utf8: 0 };
}

const PROBLEM_TEXT: Record<RowProblem, string> = {
  wrong_columns: 'wrong number of columns',
  invalid_label: 'label must be 0 or 1',
  empty_text: 'empty review text',
  invalid_utf8: 'invalid UTF-8',
};

/** Applies the policy to one invalid row: throws (fail) or counts (drop). */
function reject(
  file: string,
  where: string,
  problem: RowProblem,
  detail: string,
  policy: InvalidRowPolicy,
  counts: Record<RowProblem, number>,
): void {
  if (policy === 'fail') {
    throw new PipelineError(
      `${file}: ${where}: ${PROBLEM_TEXT[problem]}${detail} (set prepare.invalid_rows: drop to drop such rows)`,
    );
  }
  counts[problem]++;
}

/** Parses a label cell: "0"/"1" (TSV) or 0/1 (JSON). */
function parseLabel(value: unknown): 0 | 1 | null {
  if (value === 0 || value === '0') return 0;
  if (value === 1 || value === '1') return 1;
  return null;
}

/** Expected header of a historic-dump TSV. */
export const TSV_HEADER = ['Review', 'Liked'];

/**
 * Parses and validates a historic-dump TSV.
 * @param data raw bytes (UTF-8; a BOM is allowed).
 * @param file name for messages.
 * @throws PipelineError for a wrong header, or (policy "fail") the first invalid row, naming the line.
 */
export function parseTsv(data: Uint8Array, file: string, policy: InvalidRowPolicy): RawDataset {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const counts = emptyCounts();
  const rows: RawRow[] = [];
  const bytes = Buffer.from(data);
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    line++;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    let text: string;
    try {
      text = decoder.decode(raw).replace(/\r$/, '');
    } catch {
      if (line === 1) throw new PipelineError(`${file}: line 1: the header is not valid UTF-8`);
      reject(file, `line ${line}`, 'invalid_utf8', '', policy, counts);
      continue;
    }
    if (line === 1) {
      const header = text.replace(/^\uFEFF/, '').split('\t');
      if (header.length !== 2 || header[0] !== TSV_HEADER[0] || header[1] !== TSV_HEADER[1]) {
        throw new PipelineError(
          `${file}: line 1: wrong columns: expected header "${TSV_HEADER.join('\\t')}", got "${text.split('\t').join('\\t')}"`,
        );
      }
      continue;
    }
    if (text.trim() === '' && start >= bytes.length) break; // trailing newline
    const cells = text.split('\t');
    if (cells.length !== 2) {
      reject(file, `line ${line}`, 'wrong_columns', ` (expected 2, got ${cells.length})`, policy, counts);
      continue;
    }
    const label = parseLabel(cells[1].trim());
    if (label === null) {
      reject(file, `line ${line}`, 'invalid_label', ` (got "${cells[1]}")`, policy, counts);
      continue;
    }
    if (cells[0].trim() === '') {
      reject(file, `line ${line}`, 'empty_text', '', policy, counts);
      continue;
    }
    rows.push({ text: cells[0], label, row: line });
  }
  if (line <= 1) throw new PipelineError(`${file}: no data rows`);
  return { file, sha256: sha256Hex(bytes), rows, invalid: counts };
}

/**
 * Validates JSON records `{text, class}` (the `sentiment` package's format).
 * @param records the parsed array; only the first `limit` records are read.
 * @throws PipelineError (policy "fail") on the first invalid record, naming it.
 */
export function parseRecords(
  records: unknown,
  file: string,
  sha256: string,
  policy: InvalidRowPolicy,
  limit = Infinity,
): RawDataset {
  if (!Array.isArray(records)) throw new PipelineError(`${file}: expected a JSON array of {text, class} records`);
  const counts = emptyCounts();
  const rows: RawRow[] = [];
  records.slice(0, limit).forEach((record: unknown, i) => {
    const where = `record ${i + 1}`;
    const r = record as { text?: unknown; class?: unknown } | null;
    if (!r || typeof r !== 'object' || !('text' in r) || !('class' in r)) {
      reject(file, where, 'wrong_columns', ' (expected fields text and class)', policy, counts);
      return;
    }
    const label = parseLabel(r.class);
    if (label === null) {
      reject(file, where, 'invalid_label', ` (got ${JSON.stringify(r.class)})`, policy, counts);
      return;
    }
    if (typeof r.text !== 'string' || r.text.trim() === '') {
      reject(file, where, 'empty_text', '', policy, counts);
      return;
    }
    rows.push({ text: r.text, label, row: i + 1 });
  });
  return { file, sha256, rows, invalid: counts };
}

/** Absolute path of a file inside the installed `sentiment` package. */
export function sentimentPackageFile(file: string): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('sentiment/package.json')), file);
}

/**
 * Reads one of the pinned datasets of the `sentiment` package: its 1000 labelled records.
 * @throws PipelineError when the file is missing or its sha256 differs from the pin.
 */
export async function readPackageDataset(
  name: keyof typeof PACKAGE_DATASETS,
  policy: InvalidRowPolicy = 'fail',
): Promise<RawDataset> {
  const { file, sha256 } = PACKAGE_DATASETS[name];
  const full = sentimentPackageFile(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(full);
  } catch {
    throw new PipelineError(`${full}: cannot read the dataset; is the sentiment package installed (npm ci)?`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== sha256) {
    throw new PipelineError(`${full}: sha256 ${actual} differs from the pinned ${sha256}`);
  }
  return parseRecords(JSON.parse(bytes.toString('utf8')), `sentiment/${file}`, actual, policy, PACKAGE_DATASET_RECORDS);
}

/**
 * Downloads a historic-dump TSV and checks its sha256 before parsing.
 * @param fetchImpl injectable for tests.
 * @throws PipelineError on HTTP errors, network errors or a sha256 mismatch.
 */
export async function downloadTsv(
  url: string,
  expectedSha256: string,
  policy: InvalidRowPolicy,
  fetchImpl: typeof fetch = fetch,
): Promise<RawDataset> {
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new PipelineError(`${url}: download failed: ${(error as Error).message}`);
  }
  if (!response.ok) throw new PipelineError(`${url}: download failed: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) {
    throw new PipelineError(`${url}: sha256 ${actual} differs from data.sha256 ${expectedSha256}`);
  }
  return parseTsv(bytes, url, policy);
}
