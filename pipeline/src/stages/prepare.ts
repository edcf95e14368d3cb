/**
 * Stage 1, prepare: raw labelled reviews → cleaned, stratified, seeded train/test split of the historic
 * rows, the fresh evaluation rows, and stats.json, all under data/prepared/ (written as one folder swap).
 */
import path from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '@restaurant-sentiment/lib-ml';
import { classBalance, cleanRows, stratifiedSplit, toJsonl, type LabelledRow } from '../data/dataset.js';
import { mergeFeedback, readFeedbackDir, type FeedbackRejected } from '../data/feedback.js';
import { downloadTsv, readPackageDataset, type RawDataset } from '../data/raw.js';
import { PipelineError } from '../errors.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';

/** What prepare did with the feedback folder (stats.json `feedback`). */
export interface FeedbackStats {
  enabled: true;
  /** prepare.feedback.dir as given in params.yaml. */
  dir: string;
  /** False when the folder does not exist yet (then every count is 0). */
  found: boolean;
  /** `feedback*.jsonl` files read. */
  files: number;
  /** Non-empty lines read: records + the rejected counts. */
  lines: number;
  /** Valid records: superseded + accepted + dropped. */
  records: number;
  /** Lines that are not valid records, by reason. */
  rejected: FeedbackRejected;
  /** Records replaced by a later record for the same text. */
  superseded: number;
  /** Texts whose feedback label is in train.jsonl: added + overridden + unchanged. */
  accepted: number;
  /** New texts appended to the training set. */
  added: number;
  /** Training-set texts whose dataset label the feedback replaced. */
  overridden: number;
  /** Training-set texts whose dataset label the feedback confirmed. */
  unchanged: number;
  /** Texts of the test or fresh set: not used, so those sets stay fixed (and never leak into training). */
  dropped: { in_test_set: number; in_fresh_set: number };
}

/** Contents of data/prepared/stats.json. */
export interface PrepareStats {
  source: string;
  sha256: string;
  /**
   * Row counts. historic = train + test before feedback; train includes the `feedback` rows appended
   * from user feedback (texts new to the dataset).
   */
  rows: { raw: number; historic: number; fresh: number; feedback: number; train: number; test: number };
  class_balance: Record<'train' | 'test' | 'fresh', { negative: number; positive: number }>;
  dropped: {
    wrong_columns: number;
    invalid_label: number;
    empty_text: number;
    invalid_utf8: number;
    duplicate: number;
  };
  /** null when prepare.feedback.enabled is false. */
  feedback: FeedbackStats | null;
}

async function readRaw(ctx: Pick<StageContext, 'params'>): Promise<RawDataset> {
  const { data, prepare } = ctx.params;
  if (data.source === 'url') return downloadTsv(data.url!, data.sha256!, prepare.invalid_rows);
  return readPackageDataset('yelp', prepare.invalid_rows);
}

/** The dataset as prepare splits it, before any feedback is merged. */
export interface DatasetSplit {
  raw: RawDataset;
  /** Raw rows read, valid and invalid. */
  rawCount: number;
  /** Cleaned rows of the historic dump (the first data.historic_rows raw rows), file order. */
  historic: LabelledRow[];
  /** Cleaned rows after the historic dump: the fresh evaluation set, file order. */
  fresh: LabelledRow[];
  /** The seeded, stratified split of `historic` (prepare.test_size, prepare.seed). */
  train: LabelledRow[];
  test: LabelledRow[];
  /** Rows dropped by cleaning: empty after normalization, and later duplicates of a text. */
  cleaned: { empty: number; duplicates: number };
}

/**
 * Reads the raw data named by params.yaml and makes prepare's split, without feedback: raw rows by
 * position into historic and fresh, cleaned ({@link cleanRows}), then the historic rows split into train
 * and test. Prepare and `npm run feedback:collect` (which must know the test and fresh texts) share it.
 * @throws PipelineError on bad raw data (per prepare.invalid_rows) or data.historic_rows larger than the
 *   raw file.
 */
export async function splitDataset(ctx: Pick<StageContext, 'params'>): Promise<DatasetSplit> {
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

  const cleaned = cleanRows(tagged);
  const historic = cleaned.rows.filter((r) => !r.fresh);
  const fresh = cleaned.rows.filter((r) => r.fresh);
  const split = stratifiedSplit(historic, p.test_size, p.seed);
  return {
    raw,
    rawCount,
    historic,
    fresh,
    train: split.train,
    test: split.test,
    cleaned: { empty: cleaned.empty, duplicates: cleaned.duplicates },
  };
}

/**
 * Runs the prepare stage.
 * @returns the stats written to stats.json.
 * @throws PipelineError on bad raw data (per prepare.invalid_rows), an unreadable feedback folder or file
 *   (a missing folder is fine: no feedback yet), or when a split lacks a class.
 */
export async function prepare(ctx: StageContext): Promise<PrepareStats> {
  const { prepare: p } = ctx.params;
  // Split the dataset first: feedback goes into training only, so the test set stays the same whatever
  // feedback arrives, and metrics stay comparable between retrains.
  const split = await splitDataset(ctx);
  const { raw, test, fresh } = split;
  let train: LabelledRow[] = split.train;
  let feedbackStats: FeedbackStats | null = null;
  if (p.feedback.enabled) {
    const read = await readFeedbackDir(resolvePath(ctx, p.feedback.dir));
    const merged = mergeFeedback(split.train, { test, fresh }, read.records);
    train = merged.train;
    feedbackStats = {
      enabled: true,
      dir: p.feedback.dir,
      found: read.found,
      files: read.files.length,
      lines: read.lines,
      records: read.records.length,
      rejected: read.rejected,
      superseded: merged.superseded,
      accepted: merged.added + merged.overridden + merged.unchanged,
      added: merged.added,
      overridden: merged.overridden,
      unchanged: merged.unchanged,
      dropped: { in_test_set: merged.held_out.test, in_fresh_set: merged.held_out.fresh },
    };
    ctx.log.info({ feedback: feedbackStats }, 'merged feedback into training');
  }
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
      raw: split.rawCount,
      historic: split.historic.length,
      fresh: fresh.length,
      feedback: feedbackStats?.added ?? 0,
      train: train.length,
      test: test.length,
    },
    class_balance: { train: classBalance(train), test: classBalance(test), fresh: classBalance(fresh) },
    dropped: {
      ...raw.invalid,
      empty_text: raw.invalid.empty_text + split.cleaned.empty,
      duplicate: split.cleaned.duplicates,
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
