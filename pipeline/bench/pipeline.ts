/**
 * `npm run bench:pipeline`: runs the whole pipeline twice in a temp workspace (params.yaml and dvc.yaml of
 * this checkout; code and node_modules linked) and prints, per stage, wall time (s) and peak RSS (MiB),
 * the total wall time, the cross-validated accuracy with its balanced accuracy and majority-class baseline
 * (and the same three for the test, fresh and out-of-domain sets), and whether metrics.json was
 * byte-identical across the two runs. Targets (issue #2): CV accuracy ≥ 0.88, whole pipeline ≤ 30 s, peak
 * RSS ≤ 1024 MiB.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../src/runner/dvc.js';

const ROOT = process.cwd();

interface StageFigures {
  stage: string;
  wallS: number;
  maxRssMb: number;
}

/** Runs one stage command, returning the figures its "done" log line reports. */
function runStage(name: string, cmd: string, cwd: string): Promise<StageFigures> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, {
      cwd,
      shell: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CI: '1' },
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`stage ${name} exited with ${code}\n${out}`));
      const done = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === `${name} done`);
      resolve({ stage: name, wallS: (performance.now() - started) / 1000, maxRssMb: done?.maxRssMb ?? NaN });
    });
  });
}

async function runOnce(
  workspace: string,
): Promise<{ stages: StageFigures[]; totalS: number; metrics: Buffer }> {
  const started = performance.now();
  const stages: StageFigures[] = [];
  for (const stage of await loadPipeline(workspace)) {
    for (const cmd of stage.cmd) stages.push(await runStage(stage.name, cmd, workspace));
  }
  const totalS = (performance.now() - started) / 1000;
  return { stages, totalS, metrics: await readFile(path.join(workspace, 'metrics.json')) };
}

async function main(): Promise<void> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'rs-bench-'));
  try {
    for (const f of ['params.yaml', 'dvc.yaml']) await copyFile(path.join(ROOT, f), path.join(workspace, f));
    for (const d of ['node_modules', 'pipeline', 'lib-ml'])
      await symlink(path.join(ROOT, d), path.join(workspace, d));
    const first = await runOnce(workspace);
    await rm(path.join(workspace, 'releases'), { recursive: true, force: true });
    const second = await runOnce(workspace);
    const metrics = JSON.parse(first.metrics.toString());
    const peak = Math.max(...first.stages.map((s) => s.maxRssMb), ...second.stages.map((s) => s.maxRssMb));
    const cv = metrics.cross_validation.accuracy;
    const identical = first.metrics.equals(second.metrics);
    const pad = (s: string, n: number) => s.padEnd(n);
    const num = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
    /** "accuracy / balanced accuracy / majority-class baseline" of one set. */
    const trio = (m: Record<'accuracy' | 'balanced_accuracy' | 'majority_baseline', number | null>) =>
      `${num(m.accuracy)} / ${num(m.balanced_accuracy)} / ${num(m.majority_baseline)}`;
    console.log(`\npipeline benchmark (${os.cpus().length} cores, node ${process.version})`);
    console.log(`${pad('stage', 10)} ${pad('wall s (run 1)', 16)} ${pad('wall s (run 2)', 16)} peak RSS MiB`);
    first.stages.forEach((s, i) =>
      console.log(
        `${pad(s.stage, 10)} ${pad(s.wallS.toFixed(2), 16)} ${pad(second.stages[i].wallS.toFixed(2), 16)} ${Math.max(s.maxRssMb, second.stages[i].maxRssMb)}`,
      ),
    );
    const rows = [
      [
        'whole pipeline wall (s)',
        `${first.totalS.toFixed(1)} / ${second.totalS.toFixed(1)}`,
        '≤ 30',
        Math.max(first.totalS, second.totalS) <= 30,
      ],
      ['peak RSS (MiB)', String(peak), '≤ 1024', peak <= 1024],
      [`${metrics.cross_validation.folds}-fold CV accuracy`, cv.toFixed(4), '≥ 0.88', cv >= 0.88],
      [
        'CV balanced accuracy / baseline',
        `${num(metrics.cross_validation.balanced_accuracy)} / ${num(metrics.cross_validation.majority_baseline)}`,
        '',
        true,
      ],
      ['test acc / balanced / baseline', trio(metrics.test), '', true],
      ['test F1 / ROC AUC', `${metrics.test.f1.toFixed(4)} / ${metrics.test.roc_auc.toFixed(4)}`, '', true],
      ['fresh acc / balanced / baseline', trio(metrics.fresh), '', true],
      ['amazon acc / balanced / baseline', trio(metrics.out_of_domain.amazon), '', true],
      ['imdb acc / balanced / baseline', trio(metrics.out_of_domain.imdb), '', true],
      ['metrics.json identical across runs', String(identical), 'true', identical],
    ] as const;
    console.log('');
    for (const [name, value, target, ok] of rows) {
      console.log(
        `${pad(name, 36)} ${pad(value, 26)} ${pad(target, 8)} ${target ? (ok ? 'ok' : 'MISSED') : ''}`,
      );
    }
    if (rows.some(([, , target, ok]) => target && !ok)) process.exitCode = 1;
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:pipeline: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
