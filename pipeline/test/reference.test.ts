/**
 * The drift reference in the pipeline: evaluate's writeDriftReference measures it on the test split and
 * writes reports/reference.json (with how far the fresh and out-of-domain sets are from it); publish puts
 * it into the bundle manifest, and refuses, before writing anything, a reference that is missing,
 * malformed or of another model.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  measureDriftReference,
  readManifest,
  saveModelArtifacts,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';
import { testPredictor, yelpTexts } from '../../model-service/test/support/bundle.js';
import { toJsonl, type LabelledRow } from '../src/data/dataset.js';
import { readPackageDataset, sha256Hex } from '../src/data/raw.js';
import { PipelineError } from '../src/errors.js';
import { setDrift, writeDriftReference, type ReferenceRecord } from '../src/evaluate/reference.js';
import { publish } from '../src/stages/publish.js';
import { createWorkspace } from './workspace.js';

/** Yelp rows [from, to) of the `sentiment` package as labelled rows (labels do not matter here). */
const rows = (range: [number, number]): LabelledRow[] => yelpTexts(range).map((text) => ({ text, label: 1 }));

let predictor: Predictor;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let weightsSha256: string;
const at = (p: string) => path.join(ws.root, p);

beforeAll(async () => {
  predictor = await testPredictor(); // trained on Yelp rows 0–299
  ws = await createWorkspace();
  await mkdir(at('models'), { recursive: true });
  await mkdir(at('reports'), { recursive: true });
  await mkdir(at('data/prepared'), { recursive: true });
  await saveModelArtifacts(at('models'), predictor);
  weightsSha256 = sha256Hex(await readFile(at('models/weights.bin')));
});
afterAll(() => ws.cleanup());

describe('writeDriftReference', () => {
  it('writes the test split’s reference, the model it describes and the other sets’ distances', async () => {
    const test = rows([300, 480]);
    const fresh = rows([900, 1000]);
    const written = await writeDriftReference(ws.ctx, predictor, { test, fresh }, weightsSha256);
    const file = JSON.parse(await readFile(at('reports/reference.json'), 'utf8')) as ReferenceRecord;
    expect(file).toEqual(written);
    const reference = measureDriftReference(
      predictor,
      test.map((r) => r.text),
      'test',
    );
    expect(file.weights_sha256).toBe(weightsSha256);
    expect(file.reference).toEqual(reference);
    expect(reference.rows).toBe(180);
    const imdb = (await readPackageDataset('imdb', 'drop')).rows.map((r) => r.text);
    const amazon = (await readPackageDataset('amazon', 'drop')).rows.map((r) => r.text);
    expect(file.distances).toEqual({
      fresh: setDrift(predictor, reference, yelpTexts([900, 1000])),
      amazon: setDrift(predictor, reference, amazon),
      imdb: setDrift(predictor, reference, imdb),
    });
    expect([file.distances.fresh?.rows, file.distances.amazon?.rows, file.distances.imdb?.rows]).toEqual([
      100, 1000, 1000,
    ]);
    // Out-of-domain texts are full of words a Yelp model never saw: far from the reference (measured:
    // see the report of issue 11), farther than the in-domain fresh rows.
    expect(file.distances.imdb!.oov_rate!).toBeGreaterThan(file.distances.fresh!.oov_rate!);
    for (const d of Object.values(file.distances)) {
      for (const x of [d.prediction_score, d.oov_rate]) expect(x! >= 0 && x! <= 1).toBe(true);
    }
  });

  it('omits the fresh rows’ distance when there are none, and refuses an empty test split', async () => {
    const written = await writeDriftReference(ws.ctx, predictor, { test: rows([300, 310]), fresh: [] }, 'ab');
    expect(Object.keys(written.distances)).toEqual(['amazon', 'imdb']);
    await expect(writeDriftReference(ws.ctx, predictor, { test: [], fresh: [] }, 'ab')).rejects.toThrow(
      new PipelineError('data/prepared/test.jsonl has no rows: no drift reference'),
    );
  });

  it('measures distance 0 for the reference set itself and a value per histogram', () => {
    const texts = yelpTexts([300, 400]);
    const reference = measureDriftReference(predictor, texts, 'test');
    expect(setDrift(predictor, reference, texts)).toEqual({ rows: 100, prediction_score: 0, oov_rate: 0 });
  });
});

describe('publish and the drift reference', () => {
  /** What evaluate leaves besides reports/reference.json: stats, metrics and a passed gate. */
  async function evaluated(): Promise<void> {
    await writeFile(at('data/prepared/test.jsonl'), toJsonl(rows([300, 480])));
    await writeFile(
      at('data/prepared/stats.json'),
      JSON.stringify({ source: 'test', sha256: 'ab'.repeat(32), rows: { train: 300, test: 180, fresh: 0 } }),
    );
    const metrics = JSON.stringify({ test: { rows: 180, accuracy: 0.9 } }) + '\n';
    await writeFile(at('metrics.json'), metrics);
    await writeFile(
      at('reports/evaluated.json'),
      JSON.stringify({
        weights_sha256: weightsSha256,
        train_sha256: 'cd'.repeat(32),
        metrics_sha256: sha256Hex(Buffer.from(metrics)),
        gate: { metric: 'test.accuracy', accuracy: 0.9, min_accuracy: 0.8, passed: true },
      }),
    );
  }

  /** Publish must fail with `message` and write neither dist/ nor releases/. */
  async function refuses(message: string): Promise<void> {
    await expect(publish(ws.ctx)).rejects.toThrow(new PipelineError(message));
    expect(await readdir(at('dist')).catch(() => null)).toBeNull();
    expect(await readdir(at('releases')).catch(() => null)).toBeNull();
  }

  it('refuses without reports/reference.json, or with one cut off', async () => {
    await evaluated();
    await rm(at('reports/reference.json'), { force: true });
    await refuses(`${at('reports/reference.json')}: cannot read; run the evaluate stage first`);
    await writeFile(at('reports/reference.json'), '{"weights_sha256": "');
    await refuses(`${at('reports/reference.json')}: cannot read; run the evaluate stage first`);
  });

  it('refuses a reference of another model', async () => {
    await evaluated();
    await writeDriftReference(ws.ctx, predictor, { test: rows([300, 310]), fresh: [] }, 'ef'.repeat(32));
    await refuses(
      `models/weights.bin changed since it was used (sha256 efefefefefef… → ${weightsSha256.slice(0, 12)}…); reports/reference.json describes another model: run the evaluate stage before publish`,
    );
  });

  it('refuses a malformed reference, naming the field', async () => {
    await evaluated();
    const record = await writeDriftReference(
      ws.ctx,
      predictor,
      { test: rows([300, 310]), fresh: [] },
      weightsSha256,
    );
    await writeFile(
      at('reports/reference.json'),
      JSON.stringify({ ...record, reference: { ...record.reference, rows: 11 } }),
    );
    await refuses(
      'reports/reference.json: reference.predictionScore: counts plus excluded add up to 10, not to rows (11); run the evaluate stage again',
    );
  });

  it('puts the reference into the manifest of the bundle and of the release', async () => {
    await evaluated();
    const record = await writeDriftReference(
      ws.ctx,
      predictor,
      { test: rows([300, 480]), fresh: [] },
      weightsSha256,
    );
    const result = await publish(ws.ctx);
    expect(result.created).toBe(true);
    expect(result.manifest.reference).toEqual(record.reference);
    expect((await readManifest(at('dist/model'))).reference).toEqual(record.reference);
    expect((await readManifest(result.releaseDir)).reference).toEqual(record.reference);
  });
});
