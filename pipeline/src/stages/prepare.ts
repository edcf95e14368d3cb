/**
 * Stage 1, prepare: raw labelled reviews → cleaned, stratified, seeded train/test split of the historic
 * rows, the fresh evaluation rows, and stats.json, all under data/prepared/ (written as one folder swap).
 */
import path from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import { classBalance, cleanRows, stratifiedSplit, toJsonl, type LabelledRow } from '../data/dataset.js';
import { readFeedback } from '../data/feedback.js';
import { downloadTsv, readPackageDataset, type RawDataset } from '../data/raw.js';
import { PipelineError } from '../errors.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';

/** Contents of data/prepared/stats.json. */
export interface PrepareStats {
  source: string;
  sha256: string;
  rows: { raw: number; historic: number; fresh: number; feedback: number; train: number; test: number };
  class_balance: Record<'train' | 'test' | 'fresh', { negative: number; positive: number }>;
  dropped: {
    wrong_columns: number;
    invalid_label: number;
    empty_text: number;
    invalid_utf8: number;
    duplicate: number;
  };
  feedback: { enabled: boolean; accepted: number; rejected: Record<string, number> } | null;
}

async function readRaw(ctx: StageContext): Promise<RawDataset> {
  const { data, prepare } = ctx.params;
  if (data.source === 'url') return downloadTsv(data.url!, data.sha256!, prepare.invalid_rows);
  return readPackageDataset('yelp', prepare.invalid_rows);
}

/**
 * Runs the prepare stage.
 * @returns the stats written to stats.json.
 * @throws PipelineError on bad raw data (per prepare.invalid_rows), an unreadable feedback file, or when
 *   too few rows remain to split.
 */
export async function prepare(ctx: StageContext): Promise<PrepareStats> {
  const { data, prepare: p } = ctx.params;
  const raw = await readRaw(ctx);
  const historicLimit = data.historic_rows ?? Infinity;
  if (
    data.historic_rows !== null &&
    historicLimit > raw.rows.length + Object.values(raw.invalid).reduce((a, b) => a + b, 0)
  ) {
    throw new PipelineError(
      `data.historic_rows is ${historicLimit} but ${raw.file} has only ${raw.rows.length} valid rows; lower it (or null: all rows are historic)`,
    );
  }
  // Subset by position in the raw file (1-based row numbers count valid and invalid rows alike).
  const tagged = raw.rows.map((r, i) => ({ ...r, fresh: i >= historicLimit }));
  const invalidTotal = Object.values(raw.invalid).reduce((a, b) => a + b, 0);
  const rawCount = raw.rows.length + invalidTotal;

  let feedbackStats: PrepareStats['feedback'] = null;
  let feedbackRows: Array<LabelledRow & { fresh: boolean; row: number }> = [];
  if (p.feedback.enabled) {
    const feedback = await readFeedback(resolvePath(ctx, p.feedback.path));
    feedbackRows = feedback.rows.map((r, i) => ({ ...r, fresh: false, row: -(i + 1) }));
    feedbackStats = { enabled: true, accepted: feedback.rows.length, rejected: feedback.rejected };
  }

  const cleaned = cleanRows([...tagged, ...feedbackRows]);
  const historic = cleaned.rows.filter((r) => !r.fresh);
  const fresh = cleaned.rows.filter((r) => r.fresh);
  const { train, test } = stratifiedSplit(historic, p.test_size, p.seed);
  for (const [name, rows] of [
    ['train', train],
    ['test', test],
  ] as const) {
    const balance = classBalance(rows);
    if (balance.negative === 0 || balance.positive === 0) {
      throw new PipelineError(
        `${raw.file}: the ${name} split has ${balance.negative} negative and ${balance.positive} positive rows; both classes are needed`,
      );
    }
  }

  const stats: PrepareStats = {
    source: raw.file,
    sha256: raw.sha256,
    rows: {
      raw: rawCount,
      historic: historic.length,
      fresh: fresh.length,
      feedback: feedbackRows.length,
      train: train.length,
      test: test.length,
    },
    class_balance: { train: classBalance(train), test: classBalance(test), fresh: classBalance(fresh) },
    dropped: {
      ...raw.invalid,
      empty_text: raw.invalid.empty_text + cleaned.empty,
      duplicate: cleaned.duplicates,
    },
    feedback: feedbackStats,
  };
  await replaceDirAtomic(resolvePath(ctx, PATHS.prepared), async (dir) => {
    await writeFileAtomic(path.join(dir, 'train.jsonl'), toJsonl(train));
    await writeFileAtomic(path.join(dir, 'test.jsonl'), toJsonl(test));
    await writeFileAtomic(path.join(dir, 'fresh.jsonl'), toJsonl(fresh));
    await writeFileAtomic(path.join(dir, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
  });
  ctx.log.info({ rows: stats.rows, dropped: stats.dropped }, 'prepared data');
  return stats;
}

if (isMain(import.meta.url)) await runStageCli('prepare', (ctx) => prepare(ctx).then(() => {}));
