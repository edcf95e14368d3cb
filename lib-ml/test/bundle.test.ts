import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../src/backend.js';
import {
  digest,
  loadBundle,
  loadModelArtifacts,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  MODEL_FILES,
  readManifest,
  saveModelArtifacts,
  verifyBundle,
  writeManifest,
  type BundleManifest,
  type FileDigest,
  type Predictor,
} from '../src/bundle/bundle.js';
import {
  BundleError,
  BundleFileError,
  ChecksumMismatchError,
  IncompatibleBundleError,
} from '../src/bundle/errors.js';
import { deserializeModel, serializeModel, WEIGHTS_FILE } from '../src/bundle/model-io.js';
import { buildClassifier, trainClassifier } from '../src/model/classifier.js';
import { scoreTexts } from '../src/predict.js';
import { TfidfVectorizer } from '../src/vectorizer/tfidf.js';
import { compatibleRange, LIB_ML_VERSION } from '../src/version.js';

const require = createRequire(import.meta.url);
const yelp: Array<{ text: string; class: number }> = require('sentiment/test/fixtures/yelp.json');
const libMlPackage: { version: string } = require('../package.json');

const PROBES = [
  'The food was amazing and delicious',
  'Terrible service, the food was cold and awful',
  'zzz',
  '',
  'Not bad at all 😀',
];
const FIELDS: Omit<BundleManifest, 'manifestVersion' | 'libMl' | 'files'> = {
  name: 'restaurant-sentiment',
  version: '1.2.3',
  created: '2024-01-02T03:04:05.000Z',
  params: { train: { epochs: 3 } },
  dataset: { source: 'sentiment-package', sha256: 'ab'.repeat(32), rows: { train: 80 } },
  metrics: { accuracy: 0.5 },
};

let root: string;
let bundleDir: string;
let predictor: Predictor;
let savedDigests: Record<string, FileDigest>;
let manifest: BundleManifest;
let copies = 0;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A fresh copy of the good bundle, for one test to damage. */
async function copyBundle(): Promise<string> {
  const dir = path.join(root, `copy-${++copies}`);
  await cp(bundleDir, dir, { recursive: true });
  return dir;
}

async function editManifest(dir: string, edit: (m: BundleManifest) => void): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const m = JSON.parse(await readFile(file, 'utf8')) as BundleManifest;
  edit(m);
  await writeFile(file, JSON.stringify(m));
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'lib-ml-bundle-'));
  bundleDir = path.join(root, 'bundle');
  const rows = yelp.slice(0, 80);
  const texts = rows.map((r) => r.text);
  const vectorizer = new TfidfVectorizer({
    word: { ngramRange: [1, 2], maxFeatures: 200, minDf: 1 },
    char: { ngramRange: [2, 3], maxFeatures: 100, minDf: 2 },
    sublinearTf: true,
    lexicons: ['afinn', 'vader'],
  }).fit(texts);
  const model = buildClassifier(vectorizer.nFeatures, {
    type: 'logistic_regression',
    hiddenUnits: 4,
    dropout: 0,
    l2: 0,
    seed: 1,
  });
  await trainClassifier(
    model,
    vectorizer.transformMatrix(texts),
    rows.map((r) => r.class),
    { learningRate: 0.05, epochs: 3, batchSize: 16, validationSplit: 0, patience: 1, seed: 1 },
  );
  predictor = { model, vectorizer };
  savedDigests = await saveModelArtifacts(bundleDir, predictor);
  manifest = await writeManifest(bundleDir, FIELDS);
});

afterAll(async () => {
  predictor?.model.dispose();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('digest and version', () => {
  it('computes sha256 and size', () => {
    expect(digest(Buffer.from('abc'))).toEqual({
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      bytes: 3,
    });
    expect(digest(new Uint8Array(0))).toEqual({
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      bytes: 0,
    });
  });

  it('reads the lib-ml version from package.json and derives the compatible range', () => {
    expect(LIB_ML_VERSION).toBe(libMlPackage.version);
    expect(compatibleRange('0.1.0')).toBe('>=0.1.0-0 <0.2.0-0');
    expect(compatibleRange('0.4.7')).toBe('>=0.4.0-0 <0.5.0-0');
    expect(compatibleRange('1.2.3')).toBe('>=1.0.0-0 <2.0.0-0');
    expect(compatibleRange('12.0.1')).toBe('>=12.0.0-0 <13.0.0-0');
    expect(() => compatibleRange('one')).toThrow('lib-ml version "one" is not semver');
  });

  it('lets a pre-release lib-ml read the bundles it writes', () => {
    for (const version of ['0.2.0-beta.1', '1.0.0-rc.1', '1.4.3-pre.20261130.1015']) {
      expect(semver.satisfies(version, compatibleRange(version), { includePrerelease: true })).toBe(true);
    }
    expect(semver.satisfies('0.3.0', compatibleRange('0.2.5'))).toBe(false);
  });
});

describe('saveModelArtifacts + writeManifest', () => {
  it('writes the model files and a manifest with their sha256 and size', async () => {
    expect(MODEL_FILES).toEqual(['model.json', 'weights.bin', 'vectorizer.json']);
    expect(Object.keys(manifest.files)).toEqual(['model.json', 'weights.bin', 'vectorizer.json']);
    expect(manifest.files).toEqual(savedDigests);
    for (const file of MODEL_FILES) {
      const bytes = await readFile(path.join(bundleDir, file));
      expect(manifest.files[file].sha256).toBe(sha256(bytes));
      expect(manifest.files[file].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest.files[file].bytes).toBe(bytes.byteLength);
      expect(manifest.files[file].bytes).toBe((await stat(path.join(bundleDir, file))).size);
    }
    // Logistic regression: nFeatures kernel weights + 1 bias, float32.
    expect(manifest.files[WEIGHTS_FILE].bytes).toBe(4 * (predictor.vectorizer.nFeatures + 1));
  });

  it('fills in manifestVersion, libMl and files and writes the manifest as JSON', async () => {
    expect(manifest).toEqual({
      manifestVersion: MANIFEST_VERSION,
      ...FIELDS,
      libMl: { version: LIB_ML_VERSION, range: compatibleRange() },
      files: savedDigests,
    });
    expect(manifest.manifestVersion).toBe(1);
    expect(manifest.libMl.version).toBe(LIB_ML_VERSION);
    expect(manifest.libMl.range).toBe(compatibleRange());
    const onDisk = await readFile(path.join(bundleDir, MANIFEST_FILE), 'utf8');
    expect(JSON.parse(onDisk)).toEqual(manifest);
    expect(onDisk.endsWith('}\n')).toBe(true);
  });

  it('writeManifest fails with BundleFileError when a model file is missing', async () => {
    const dir = await copyBundle();
    await unlink(path.join(dir, 'model.json'));
    const error = await rejection(writeManifest(dir, FIELDS));
    expect(error).toBeInstanceOf(BundleFileError);
    expect((error as BundleFileError).file).toBe('model.json');
    expect(error.message).toContain('model.json');
  });
});

describe('loadBundle', () => {
  it('loads a bundle that predicts exactly like the in-memory predictor', async () => {
    const bundle = await loadBundle(bundleDir);
    try {
      expect(bundle.manifest).toEqual(manifest);
      expect(bundle.vectorizer.featureNames()).toEqual(predictor.vectorizer.featureNames());
      const expected = Array.from(scoreTexts(predictor, PROBES));
      expect(Array.from(scoreTexts(bundle, PROBES))).toEqual(expected);
      expect(expected.some((s) => s !== 0.5)).toBe(true);
    } finally {
      bundle.model.dispose();
    }
  });

  it('loadModelArtifacts loads the model files without a manifest', async () => {
    const dir = await copyBundle();
    await unlink(path.join(dir, MANIFEST_FILE));
    const loaded = await loadModelArtifacts(dir);
    try {
      expect(Array.from(scoreTexts(loaded, PROBES))).toEqual(Array.from(scoreTexts(predictor, PROBES)));
    } finally {
      loaded.model.dispose();
    }
    await unlink(path.join(dir, 'vectorizer.json'));
    await expect(loadModelArtifacts(dir)).rejects.toThrow(BundleFileError);
  });

  it('verifyBundle returns the manifest of a good bundle', async () => {
    expect(await verifyBundle(bundleDir)).toEqual(manifest);
    expect(await readManifest(bundleDir)).toEqual(manifest);
  });
});

const LOADERS: Array<[string, (dir: string) => Promise<unknown>]> = [
  ['loadBundle', loadBundle],
  ['verifyBundle', verifyBundle],
];

describe.each(LOADERS)('%s refuses a damaged bundle', (_name, load) => {
  it('rejects a corrupted weights.bin with ChecksumMismatchError naming the file', async () => {
    const dir = await copyBundle();
    const file = path.join(dir, 'weights.bin');
    const bytes = await readFile(file);
    bytes[7] ^= 0xff;
    await writeFile(file, bytes);
    const error = await rejection(load(dir));
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect(error).toBeInstanceOf(BundleError);
    expect(error.name).toBe('ChecksumMismatchError');
    const mismatch = error as ChecksumMismatchError;
    expect(mismatch.file).toBe('weights.bin');
    expect(mismatch.expected).toBe(manifest.files['weights.bin'].sha256);
    expect(mismatch.actual).toBe(sha256(bytes));
    expect(mismatch.message).toContain('weights.bin');
    expect(mismatch.message).toBe(
      `checksum mismatch for weights.bin: manifest says sha256 ${mismatch.expected}, file has ${mismatch.actual}`,
    );
  });

  it('rejects a changed vectorizer.json with ChecksumMismatchError naming it', async () => {
    const dir = await copyBundle();
    const file = path.join(dir, 'vectorizer.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"nDocuments":80', '"nDocuments":81'));
    const error = await rejection(load(dir));
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as ChecksumMismatchError).file).toBe('vectorizer.json');
  });

  it('rejects a missing vectorizer.json with BundleFileError naming it', async () => {
    const dir = await copyBundle();
    await unlink(path.join(dir, 'vectorizer.json'));
    const error = await rejection(load(dir));
    expect(error).toBeInstanceOf(BundleFileError);
    expect(error.name).toBe('BundleFileError');
    expect((error as BundleFileError).file).toBe('vectorizer.json');
    expect(error.message).toBe(`cannot read vectorizer.json in ${dir}: ENOENT`);
  });

  it('rejects a bundle for another lib-ml with IncompatibleBundleError naming both versions', async () => {
    const dir = await copyBundle();
    await editManifest(dir, (m) => {
      m.libMl.range = '^99.0.0';
      m.libMl.version = '99.1.0';
    });
    const error = await rejection(load(dir));
    expect(error).toBeInstanceOf(IncompatibleBundleError);
    const incompatible = error as IncompatibleBundleError;
    expect(incompatible.requiredRange).toBe('^99.0.0');
    expect(incompatible.bundleLibMlVersion).toBe('99.1.0');
    expect(incompatible.runningLibMlVersion).toBe(LIB_ML_VERSION);
    expect(incompatible.file).toBe('manifest.json');
    expect(error.message).toContain('^99.0.0');
    expect(error.message).toContain(LIB_ML_VERSION);
    expect(error.message).toBe(
      `bundle written by lib-ml 99.1.0 needs lib-ml ^99.0.0; this is lib-ml ${LIB_ML_VERSION}`,
    );
  });

  it('rejects a manifest that is not JSON with BundleFileError', async () => {
    const dir = await copyBundle();
    await writeFile(path.join(dir, MANIFEST_FILE), '{ not json');
    const error = await rejection(load(dir));
    expect(error).toBeInstanceOf(BundleFileError);
    expect((error as BundleFileError).file).toBe('manifest.json');
    expect(error.message).toMatch(/^manifest\.json is not valid JSON: /);
  });

  it('rejects a missing manifest and a manifest of the wrong shape with BundleFileError', async () => {
    const missing = await copyBundle();
    await unlink(path.join(missing, MANIFEST_FILE));
    const error = await rejection(load(missing));
    expect(error).toBeInstanceOf(BundleFileError);
    expect(error.message).toBe(`cannot read manifest.json in ${missing}: ENOENT`);

    const wrongVersion = await copyBundle();
    await editManifest(wrongVersion, (m) => {
      m.manifestVersion = 2;
    });
    await expect(load(wrongVersion)).rejects.toThrow(
      'manifest.json is not a version 1 bundle manifest (needs manifestVersion, version, libMl.range, files with sha256)',
    );
    await expect(load(wrongVersion)).rejects.toBeInstanceOf(BundleFileError);

    for (const files of [null, { 'model.json': null }]) {
      const badFiles = await copyBundle();
      await editManifest(badFiles, (m) => {
        (m as unknown as { files: unknown }).files = files;
      });
      await expect(load(badFiles)).rejects.toThrow(
        'manifest.json is not a version 1 bundle manifest (needs manifestVersion, version, libMl.range, files with sha256)',
      );
    }
  });

  it('rejects a manifest that does not list a model file or lists an unsafe name', async () => {
    const unlisted = await copyBundle();
    await editManifest(unlisted, (m) => {
      delete m.files['vectorizer.json'];
    });
    const error = await rejection(load(unlisted));
    expect(error).toBeInstanceOf(BundleFileError);
    expect(error.message).toBe('manifest.json does not list vectorizer.json');
    expect((error as BundleFileError).file).toBe('vectorizer.json');

    const unsafe = await copyBundle();
    await editManifest(unsafe, (m) => {
      m.files['../secret'] = { sha256: '0'.repeat(64), bytes: 1 };
    });
    const unsafeError = await rejection(load(unsafe));
    expect(unsafeError).toBeInstanceOf(BundleFileError);
    expect(unsafeError.message).toBe('manifest.json lists an invalid file name "../secret"');
  });
});

describe('loadBundle content errors', () => {
  it('rejects a vectorizer.json that is not JSON (checksums updated) with BundleFileError', async () => {
    const dir = await copyBundle();
    const bad = Buffer.from('not json');
    await writeFile(path.join(dir, 'vectorizer.json'), bad);
    await editManifest(dir, (m) => {
      m.files['vectorizer.json'] = digest(bad);
    });
    // verifyBundle only checks checksums; loadBundle parses.
    await expect(verifyBundle(dir)).resolves.toMatchObject({ version: '1.2.3' });
    const error = await rejection(loadBundle(dir));
    expect(error).toBeInstanceOf(BundleFileError);
    expect((error as BundleFileError).file).toBe('vectorizer.json');
    expect(error.message).toMatch(/^vectorizer\.json is not valid JSON: /);
  });
});

describe('serializeModel / deserializeModel', () => {
  it('round-trips to identical weight bytes, model.json and predictions', async () => {
    const first = await serializeModel(predictor.model);
    expect(first.weights.equals(await readFile(path.join(bundleDir, 'weights.bin')))).toBe(true);
    const model = await deserializeModel(first.modelJson, first.weights);
    try {
      const second = await serializeModel(model);
      expect(second.weights.byteLength).toBe(first.weights.byteLength);
      expect(second.weights.equals(first.weights)).toBe(true);
      expect(second.modelJson.toString('utf8')).toBe(first.modelJson.toString('utf8'));
      const json = JSON.parse(first.modelJson.toString('utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest).toHaveLength(1);
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      expect(json.weightsManifest[0].weights.map((w: { shape: number[] }) => w.shape)).toEqual([
        [predictor.vectorizer.nFeatures, 1],
        [1],
      ]);
      const restored = { model, vectorizer: predictor.vectorizer };
      expect(Array.from(scoreTexts(restored, PROBES))).toEqual(Array.from(scoreTexts(predictor, PROBES)));
    } finally {
      model.dispose();
    }
  });

  it('reads weights from a Buffer slice with a non-zero byteOffset', async () => {
    const { modelJson, weights } = await serializeModel(predictor.model);
    const padded = Buffer.alloc(weights.byteLength + 13);
    weights.copy(padded, 5);
    const model = await deserializeModel(modelJson, padded.subarray(5, 5 + weights.byteLength));
    try {
      expect((await serializeModel(model)).weights.equals(weights)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('rejects model.json that is not JSON', async () => {
    await expect(deserializeModel(Buffer.from('nope'), new Uint8Array(0))).rejects.toThrow(SyntaxError);
  });
});
