/**
 * Lineage checks between stages run one by one (`npm run pipeline -- <stage>`): train records the data it
 * was trained on, evaluate records the model it scored, and the next stage refuses stale inputs instead of
 * publishing metrics that describe another model or split.
 */
import { readFile } from 'node:fs/promises';
import { sha256Hex } from './data/raw.js';
import { PipelineError } from './errors.js';

/** sha256 of a file's bytes. @throws PipelineError when it cannot be read. */
export async function fileSha256(file: string, hint: string): Promise<string> {
  try {
    return sha256Hex(await readFile(file));
  } catch {
    throw new PipelineError(`${file}: cannot read; ${hint}`);
  }
}

/** Reads a small JSON record written by a stage. @throws PipelineError naming the stage to run. */
export async function readRecord<T>(file: string, hint: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    throw new PipelineError(`${file}: cannot read; ${hint}`);
  }
}

/** Throws a PipelineError saying which stage to rerun when `actual` is not `expected`. */
export function requireSame(what: string, expected: string, actual: string, rerun: string): void {
  if (expected !== actual) {
    throw new PipelineError(
      `${what} changed since it was used (sha256 ${expected.slice(0, 12)}… → ${actual.slice(0, 12)}…); ${rerun}`,
    );
  }
}
