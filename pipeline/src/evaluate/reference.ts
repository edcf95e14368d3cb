/**
 * The drift reference of the evaluated model (lib-ml ../drift/reference.ts): evaluate measures how the
 * model's prediction scores and its inputs' out-of-vocabulary rates are distributed on the held-out test
 * split and writes them to reports/reference.json, with the Jensen–Shannon distance of the fresh rows
 * and of the two out-of-domain sets from it (what drift looks like for this model: the numbers to
 * choose the chart's `monitoring.prometheusRule.drift.distance` by). publish puts the reference into the
 * bundle manifest, after checking that the file describes the model it publishes.
 */
import {
  DriftReferenceError,
  jensenShannonDistance,
  measureDriftReference,
  parseDriftReference,
  writeFileAtomic,
  type DriftReference,
  type Predictor,
} from '@restaurant-sentiment/lib-ml';
import type { LabelledRow } from '../data/dataset.js';
import { readPackageDataset } from '../data/raw.js';
import { PipelineError } from '../errors.js';
import { readRecord, requireSame } from '../lineage.js';
import { PATHS } from '../paths.js';
import { resolvePath, type StageContext } from '../stage.js';

/** How far a set's distributions are from the reference. */
export interface SetDrift {
  rows: number;
  /** Jensen–Shannon distance (base 2, 0–1) of the prediction-score bins; null without a scored row. */
  prediction_score: number | null;
  /** Jensen–Shannon distance of the OOV-rate bins; null without a row that has a word token. */
  oov_rate: number | null;
}

/** Contents of reports/reference.json. */
export interface ReferenceRecord {
  /** sha256 of models/weights.bin: the model the reference describes. */
  weights_sha256: string;
  reference: DriftReference;
  /** Distances of the fresh rows (omitted when there are none) and of the out-of-domain sets. */
  distances: Partial<Record<'fresh' | 'amazon' | 'imdb', SetDrift>>;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The distance of two histograms' counts, or null when either has no counted row. */
function distance(live: number[], reference: number[]): number | null {
  const empty = (counts: number[]) => counts.every((c) => c === 0);
  return empty(live) || empty(reference) ? null : round(jensenShannonDistance(live, reference));
}

/**
 * How far `texts` are, as seen by `predictor`, from `reference`.
 * @param texts at least one raw text.
 */
export function setDrift(
  predictor: Predictor,
  reference: DriftReference,
  texts: readonly string[],
): SetDrift {
  const measured = measureDriftReference(predictor, texts, 'compared');
  return {
    rows: texts.length,
    prediction_score: distance(measured.predictionScore.counts, reference.predictionScore.counts),
    oov_rate: distance(measured.oovRate.counts, reference.oovRate.counts),
  };
}

/**
 * Measures the drift reference on the test split and writes reports/reference.json (atomically).
 * @param rows the prepared test rows (at least one) and fresh rows (may be empty).
 * @param weightsSha256 sha256 of the evaluated models/weights.bin.
 * @returns the written record.
 * @throws PipelineError when there are no test rows or an out-of-domain set cannot be read.
 */
export async function writeDriftReference(
  ctx: StageContext,
  predictor: Predictor,
  rows: { test: readonly LabelledRow[]; fresh: readonly LabelledRow[] },
  weightsSha256: string,
): Promise<ReferenceRecord> {
  if (rows.test.length === 0) throw new PipelineError(`${PATHS.test} has no rows: no drift reference`);
  const texts = (set: readonly LabelledRow[]) => set.map((r) => r.text);
  const reference = measureDriftReference(predictor, texts(rows.test), 'test');
  const distances: ReferenceRecord['distances'] = {};
  if (rows.fresh.length) distances.fresh = setDrift(predictor, reference, texts(rows.fresh));
  for (const name of ['amazon', 'imdb'] as const) {
    distances[name] = setDrift(predictor, reference, texts((await readPackageDataset(name, 'drop')).rows));
  }
  const record: ReferenceRecord = { weights_sha256: weightsSha256, reference, distances };
  await writeFileAtomic(resolvePath(ctx, PATHS.reference), JSON.stringify(record, null, 2) + '\n');
  ctx.log.info({ rows: reference.rows, distances }, 'drift reference');
  return record;
}

/**
 * Reads reports/reference.json for publish: the reference of the model whose weights have sha256
 * `weightsSha256`.
 * @throws PipelineError when the file is missing or unreadable, describes another model, or its
 *   reference is malformed (naming the field).
 */
export async function readDriftReference(ctx: StageContext, weightsSha256: string): Promise<DriftReference> {
  const record = await readRecord<Partial<ReferenceRecord>>(
    resolvePath(ctx, PATHS.reference),
    'run the evaluate stage first',
  );
  requireSame(
    'models/weights.bin',
    record.weights_sha256 ?? '',
    weightsSha256,
    `${PATHS.reference} describes another model: run the evaluate stage before publish`,
  );
  try {
    return parseDriftReference(record.reference);
  } catch (error) {
    if (error instanceof DriftReferenceError) {
      throw new PipelineError(`${PATHS.reference}: ${error.message}; run the evaluate stage again`);
    }
    throw error;
  }
}
