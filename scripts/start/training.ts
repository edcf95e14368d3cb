/**
 * `npm start`'s training step: when the releases folder has no model release, run the pipeline's stages
 * (dvc.yaml, in dependency order) with their output in a log file, publishing into that same folder.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatTag, LocalRegistry } from '@restaurant-sentiment/lib-version';
import semver from 'semver';
import { PATHS } from '../../pipeline/src/paths.js';
import { runPipeline } from '../../pipeline/src/runner/dvc.js';
import { describeExit, type LogFile, type Supervisor } from './processes.js';

/**
 * The model releases in `registryDir` (folders `model-v<version>/`), as tags, newest first (semver
 * order); [] when the folder does not exist.
 */
export async function listReleases(registryDir: string): Promise<string[]> {
  const versions = (await new LocalRegistry(registryDir).listVersions()).filter((v) => semver.valid(v));
  return semver.rsort(versions).map((v) => formatTag('model', v));
}

/** A stage that did not finish: its name, how it ended ("exit code 1") and the log with its output. */
export class StageFailedError extends Error {
  constructor(
    readonly stage: string,
    readonly how: string,
    readonly log: LogFile,
  ) {
    super(`stage ${stage} failed (${how})`);
    this.name = 'StageFailedError';
  }
}

/**
 * The reason a failed stage gave: the last `<stage>: error: <reason>` line a stage command prints on
 * stderr (pipeline/src/stage.ts), e.g. "gate failed: test accuracy 0.88 is below ...".
 * @param lines the last lines of the pipeline log, oldest first.
 * @returns the reason, or undefined when no such line is among them.
 */
export function stageErrorReason(stage: string, lines: readonly string[]): string | undefined {
  const prefix = `${stage}: error: `;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].startsWith(prefix)) return lines[i].slice(prefix.length).trim();
  }
  return undefined;
}

/**
 * Runs every stage of `<root>/dvc.yaml` in dependency order, each command in a shell in its own process
 * group (so stopping `npm start` stops the stage), output to `log`. The publish stage writes into
 * `registryDir` (passed as PUBLISH_REGISTRY_DIR, which overrides params.yaml publish.registry_dir).
 * @param onStage called before each stage with its name.
 * @throws StageFailedError naming the first stage whose command exits non-zero or is killed (later stages
 *   do not run); PipelineError when dvc.yaml cannot be read.
 */
export async function runTraining(options: {
  root: string;
  registryDir: string;
  processes: Supervisor;
  log: LogFile;
  onStage?: (name: string) => void;
}): Promise<void> {
  const { root, registryDir, processes, log, onStage = () => {} } = options;
  const env = { ...process.env, PUBLISH_REGISTRY_DIR: registryDir };
  await runPipeline(
    root,
    [],
    (stage) => onStage(stage.name),
    env,
    async (cmd, cwd, stage, commandEnv) => {
      log.write(Buffer.from(`\n==> stage ${stage.name}: ${cmd}\n`), 'stderr');
      const run = processes.spawn(`stage ${stage.name}`, cmd, [], {
        cwd,
        env: commandEnv,
        shell: true,
        ownGroup: true,
        log,
      });
      const exit = await run.exited;
      if (exit.code !== 0) throw new StageFailedError(stage.name, describeExit(exit), log);
    },
  );
}

/** The held-out test metrics `npm start` reports after training. */
export interface HeadlineMetrics {
  /** Held-out test accuracy, 0–1. */
  accuracy: number;
  /** Mean of the per-class recalls on the same rows, 0–1; null when metrics.json does not have it. */
  balancedAccuracy: number | null;
  /** Accuracy of always answering the majority class on the same rows, 0–1; null when absent. */
  majorityBaseline: number | null;
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/**
 * Reads the held-out test metrics from `<root>/metrics.json` (written by the evaluate stage).
 * @throws Error when the file is missing or has no `test.accuracy` number.
 */
export async function readHeadlineMetrics(root: string): Promise<HeadlineMetrics> {
  const file = path.join(root, PATHS.metrics);
  const metrics = JSON.parse(await readFile(file, 'utf8')) as { test?: Record<string, unknown> };
  const test = metrics.test ?? {};
  if (typeof test.accuracy !== 'number') throw new Error(`${file}: no test.accuracy`);
  return {
    accuracy: test.accuracy,
    balancedAccuracy: numberOrNull(test.balanced_accuracy),
    majorityBaseline: numberOrNull(test.majority_baseline),
  };
}

/**
 * "held-out accuracy 0.888 (balanced 0.883, majority baseline 0.553)"; the parts metrics.json lacks are
 * left out. Values are rounded to 3 decimals.
 */
export function formatHeadlineMetrics(m: HeadlineMetrics): string {
  const extra = [
    m.balancedAccuracy === null ? null : `balanced ${m.balancedAccuracy.toFixed(3)}`,
    m.majorityBaseline === null ? null : `majority baseline ${m.majorityBaseline.toFixed(3)}`,
  ].filter((part) => part !== null);
  return `held-out accuracy ${m.accuracy.toFixed(3)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
