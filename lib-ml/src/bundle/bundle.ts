/**
 * Model bundles: the files that make a servable model, and their manifest.
 *
 * A bundle folder holds `model.json`, `weights.bin` (the tfjs model), `vectorizer.json` (the fitted
 * vectorizer) and `manifest.json`, which records name, version, lib-ml compatibility, params, dataset,
 * metrics and the sha256 and size of every other file. {@link loadBundle} refuses a bundle whose files
 * do not match their checksums or whose lib-ml range excludes the running lib-ml.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import semver from 'semver';
import { writeFileAtomic } from '../io/atomic.js';
import type { DriftReference } from '../drift/reference.js';
import { TfidfVectorizer } from '../vectorizer/tfidf.js';
import { compatibleRange, LIB_ML_VERSION } from '../version.js';
import { BundleFileError, ChecksumMismatchError, IncompatibleBundleError } from './errors.js';
import { deserializeModel, serializeModel, WEIGHTS_FILE } from './model-io.js';

/** The model files of a bundle, in manifest order. */
export const MODEL_FILES = ['model.json', WEIGHTS_FILE, 'vectorizer.json'] as const;
/** Name of the manifest file. */
export const MANIFEST_FILE = 'manifest.json';
/** Version of the manifest layout. */
export const MANIFEST_VERSION = 1;

/** A trained model and the vectorizer that feeds it: all that prediction needs. */
export interface Predictor {
  model: tf.LayersModel;
  vectorizer: TfidfVectorizer;
}

/** Checksum entry of one bundle file. */
export interface FileDigest {
  /** Lowercase hex sha256 of the file's bytes. */
  sha256: string;
  /** File size in bytes. */
  bytes: number;
}

/** Contents of manifest.json. */
export interface BundleManifest {
  manifestVersion: number;
  /** Model name, e.g. "restaurant-sentiment". */
  name: string;
  /** Model version (semver), the `X.Y.Z` of release tag `model-vX.Y.Z`. */
  version: string;
  /** ISO-8601 time the bundle was assembled. */
  created: string;
  /** lib-ml that wrote the bundle, and the range of lib-ml versions that can read it. */
  libMl: { version: string; range: string };
  /** The params.yaml values the model was trained with. */
  params: Record<string, unknown>;
  /** Training data: source description, sha256 of the raw data, row counts per subset. */
  dataset: { source: string; sha256: string; rows: Record<string, number> };
  /** Evaluation metrics (metrics.json). */
  metrics: Record<string, unknown>;
  /**
   * Distribution of prediction scores and OOV rates on the held-out set, for drift monitoring
   * (../drift/reference.ts). Absent in bundles published before it existed; model-service then exports
   * no reference. Not checked by {@link readManifest}: use `parseDriftReference`.
   */
  reference?: DriftReference;
  /** Every other file of the bundle → its digest. */
  files: Record<string, FileDigest>;
}

/** A loaded, verified bundle. */
export interface ModelBundle extends Predictor {
  manifest: BundleManifest;
}

/** sha256 and size of a byte buffer. */
export function digest(data: Uint8Array): FileDigest {
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength };
}

/**
 * Writes `model.json`, `weights.bin` and `vectorizer.json` into `dir` (each atomically).
 * @returns the digest of each written file.
 */
export async function saveModelArtifacts(
  dir: string,
  predictor: Predictor,
): Promise<Record<string, FileDigest>> {
  const { modelJson, weights } = await serializeModel(predictor.model);
  const contents: Record<(typeof MODEL_FILES)[number], Buffer> = {
    'model.json': modelJson,
    [WEIGHTS_FILE]: weights,
    'vectorizer.json': Buffer.from(JSON.stringify(predictor.vectorizer.toJSON())),
  };
  const digests: Record<string, FileDigest> = {};
  for (const file of MODEL_FILES) {
    await writeFileAtomic(path.join(dir, file), contents[file]);
    digests[file] = digest(contents[file]);
  }
  return digests;
}

async function readBundleFile(dir: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.join(dir, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BundleFileError(`cannot read ${file} in ${dir}: ${code ?? (error as Error).message}`, file);
  }
}

/** Builds a predictor from the three model files' bytes. */
async function predictorFromBytes(files: Record<string, Buffer>): Promise<Predictor> {
  let vectorizerJson: unknown;
  try {
    vectorizerJson = JSON.parse(files['vectorizer.json'].toString('utf8'));
  } catch (error) {
    throw new BundleFileError(
      `vectorizer.json is not valid JSON: ${(error as Error).message}`,
      'vectorizer.json',
    );
  }
  const vectorizer = TfidfVectorizer.fromJSON(vectorizerJson);
  const model = await deserializeModel(files['model.json'], files[WEIGHTS_FILE]);
  return { model, vectorizer };
}

/**
 * Loads the model files of `dir` without a manifest (for the evaluate stage, before publishing).
 * @throws BundleFileError when a file is missing or unreadable.
 */
export async function loadModelArtifacts(dir: string): Promise<Predictor> {
  const files: Record<string, Buffer> = {};
  for (const file of MODEL_FILES) files[file] = await readBundleFile(dir, file);
  return predictorFromBytes(files);
}

/**
 * Writes `manifest.json` into `dir`, with the digests of the model files found there.
 * @param fields everything but manifestVersion, libMl and files (filled in here).
 * @returns the written manifest.
 * @throws BundleFileError when a model file is missing.
 */
export async function writeManifest(
  dir: string,
  fields: Omit<BundleManifest, 'manifestVersion' | 'libMl' | 'files'>,
): Promise<BundleManifest> {
  const files: Record<string, FileDigest> = {};
  for (const file of MODEL_FILES) files[file] = digest(await readBundleFile(dir, file));
  const manifest: BundleManifest = {
    manifestVersion: MANIFEST_VERSION,
    ...fields,
    libMl: { version: LIB_ML_VERSION, range: compatibleRange(LIB_ML_VERSION) },
    files,
  };
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Reads and checks manifest.json of `dir` (shape and lib-ml compatibility only).
 * @throws BundleFileError (missing/invalid manifest), IncompatibleBundleError.
 */
export async function readManifest(dir: string): Promise<BundleManifest> {
  const raw = await readBundleFile(dir, MANIFEST_FILE);
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new BundleFileError(`manifest.json is not valid JSON: ${(error as Error).message}`, MANIFEST_FILE);
  }
  if (
    manifest?.manifestVersion !== MANIFEST_VERSION ||
    typeof manifest.version !== 'string' ||
    typeof manifest.libMl?.range !== 'string' ||
    typeof manifest.files !== 'object' ||
    manifest.files === null ||
    !Object.values(manifest.files).every((f) => typeof f?.sha256 === 'string')
  ) {
    throw new BundleFileError(
      `manifest.json is not a version ${MANIFEST_VERSION} bundle manifest (needs manifestVersion, version, libMl.range, files with sha256)`,
      MANIFEST_FILE,
    );
  }
  if (!semver.satisfies(LIB_ML_VERSION, manifest.libMl.range, { includePrerelease: true })) {
    throw new IncompatibleBundleError(manifest.libMl.version, manifest.libMl.range, LIB_ML_VERSION);
  }
  for (const file of MODEL_FILES) {
    if (!manifest.files[file]) throw new BundleFileError(`manifest.json does not list ${file}`, file);
  }
  return manifest;
}

/** Reads every file the manifest lists and checks its sha256; returns the bytes by file name. */
async function readVerifiedFiles(dir: string, manifest: BundleManifest): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const [file, expected] of Object.entries(manifest.files)) {
    if (file.includes('/') || file.includes('\\') || file.startsWith('.')) {
      throw new BundleFileError(`manifest.json lists an invalid file name "${file}"`, file);
    }
    const bytes = await readBundleFile(dir, file);
    const actual = digest(bytes).sha256;
    if (actual !== expected.sha256) throw new ChecksumMismatchError(file, expected.sha256, actual);
    files[file] = bytes;
  }
  return files;
}

/**
 * Checks a bundle folder without loading the model: manifest, lib-ml range, every checksum.
 * @returns the manifest.
 * @throws BundleFileError, IncompatibleBundleError, ChecksumMismatchError (naming the file).
 */
export async function verifyBundle(dir: string): Promise<BundleManifest> {
  const manifest = await readManifest(dir);
  await readVerifiedFiles(dir, manifest);
  return manifest;
}

/**
 * Loads a bundle after checking its lib-ml range and every file's checksum. The bytes that were hashed
 * are the bytes that are parsed.
 * @throws BundleFileError, IncompatibleBundleError, ChecksumMismatchError (naming the file).
 */
export async function loadBundle(dir: string): Promise<ModelBundle> {
  const manifest = await readManifest(dir);
  const files = await readVerifiedFiles(dir, manifest);
  return { manifest, ...(await predictorFromBytes(files)) };
}
