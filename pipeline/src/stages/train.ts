/**
 * Stage 2, train: fits the lib-ml vectorizer and the tfjs classifier on data/prepared/train.jsonl, writes
 * the model files to models/ (one folder swap) and the per-epoch history to reports/train_history.csv.
 */
import {
  initBackend,
  replaceDirAtomic,
  saveModelArtifacts,
  writeFileAtomic,
  type EpochRecord,
} from '@restaurant-sentiment/lib-ml';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { readJsonl } from '../data/dataset.js';
import { fileSha256 } from '../lineage.js';
import { fitPredictor } from '../model/fit.js';
import { PATHS } from '../paths.js';
import { isMain, resolvePath, runStageCli, type StageContext } from '../stage.js';

/** Formats a number for the history CSV: up to 6 decimals, "" for null. */
function cell(value: number | null): string {
  return value === null ? '' : String(Math.round(value * 1e6) / 1e6);
}

/** The training history as CSV (header: epoch,loss,accuracy,val_loss,val_accuracy). */
export function historyCsv(history: readonly EpochRecord[]): string {
  const lines = history.map((h) =>
    [h.epoch, cell(h.loss), cell(h.accuracy), cell(h.valLoss), cell(h.valAccuracy)].join(','),
  );
  return ['epoch,loss,accuracy,val_loss,val_accuracy', ...lines].join('\n') + '\n';
}

/** Progress output: a bar on a TTY, one log line per epoch otherwise. */
function progressReporter(
  ctx: StageContext,
  total: number,
): { onEpoch: (r: EpochRecord) => void; stop: () => void } {
  if (process.stderr.isTTY && !process.env.CI) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          'train [{bar}] epoch {value}/{total} | loss {loss} | acc {acc} | val_loss {valLoss} | val_acc {valAcc}',
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { loss: '-', acc: '-', valLoss: '-', valAcc: '-' });
    return {
      onEpoch: (r) =>
        bar.update(r.epoch, {
          loss: r.loss.toFixed(4),
          acc: r.accuracy.toFixed(4),
          valLoss: r.valLoss?.toFixed(4) ?? '-',
          valAcc: r.valAccuracy?.toFixed(4) ?? '-',
        }),
      stop: () => bar.stop(),
    };
  }
  return {
    onEpoch: (r) => ctx.log.info({ ...r, epochs: total }, `epoch ${r.epoch}/${total}`),
    stop: () => {},
  };
}

/**
 * Runs the train stage.
 * @returns the per-epoch history.
 */
export async function train(ctx: StageContext): Promise<EpochRecord[]> {
  const backend = await initBackend();
  const rows = await readJsonl(resolvePath(ctx, PATHS.train));
  const trainSha256 = await fileSha256(resolvePath(ctx, PATHS.train), 'run the prepare stage first');
  ctx.log.info({ backend, rows: rows.length, model: ctx.params.train.model }, 'training');
  const progress = progressReporter(ctx, ctx.params.train.epochs);
  const { predictor, history } = await fitPredictor(rows, ctx.params, progress.onEpoch).finally(
    progress.stop,
  );
  await replaceDirAtomic(resolvePath(ctx, PATHS.models), async (dir) => {
    await saveModelArtifacts(dir, predictor);
    await writeFileAtomic(
      path.join(dir, 'training.json'),
      JSON.stringify({ train_sha256: trainSha256 }) + '\n',
    );
  });
  await writeFileAtomic(resolvePath(ctx, PATHS.history), historyCsv(history));
  const last = history[history.length - 1];
  ctx.log.info(
    {
      epochs: history.length,
      features: predictor.vectorizer.nFeatures,
      loss: last?.loss,
      valLoss: last?.valLoss,
    },
    'trained',
  );
  predictor.model.dispose();
  return history;
}

if (isMain(import.meta.url)) await runStageCli('train', (ctx) => train(ctx).then(() => {}));
