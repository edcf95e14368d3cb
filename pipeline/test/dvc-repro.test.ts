/**
 * The real DVC (`.venv/bin/dvc`, pinned in requirements.txt) on a temporary copy of the repository:
 * `dvc repro` runs the four stages and writes dvc.lock, a second run does nothing, one changed param
 * reruns exactly the stages that depend on it, `dvc metrics show`, `dvc params diff`, `dvc plots show`,
 * `dvc exp run -S` and `dvc exp show` report what the stages wrote, and the project's runner
 * (`npm run pipeline`) writes byte-identical outputs. Smaller params than the real ones (2 folds, no
 * character n-grams, 10 epochs) keep it quick: this checks DVC's mechanics, not accuracy.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import YAML from 'yaml';
import {
  copyRepository,
  dvcAvailable,
  lockedOutputs,
  readOutputs,
  runCommand,
  setParams,
  stagesRun,
  type CommandResult,
  type RepoCopy,
} from './support/dvc-workspace.js';
import { REPO_ROOT } from './workspace.js';

const RUN = dvcAvailable('the dvc repro tests');

/** The copies' params: quick to train and evaluate. */
const QUICK_PARAMS = { 'evaluate.folds': 2, 'vectorizer.char.enabled': false, 'train.epochs': 10 };
/** Both pipeline runs publish with this `created` time (reproducible-builds' SOURCE_DATE_EPOCH). */
const SOURCE_DATE_EPOCH = '1764547200';
const CREATED = '2025-12-01T00:00:00.000Z';
const STAGES = ['prepare', 'train', 'evaluate', 'publish'];

/**
 * What `dvc metrics show` and `dvc exp show` report of a metrics file: DVC keeps numbers, strings and
 * booleans, and drops lists, nulls and objects left empty (`_extract_metrics` in dvc/repo/metrics/show.py).
 */
function dvcMetricsView(value: unknown): unknown {
  if (['number', 'string', 'boolean'].includes(typeof value)) return value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const view = dvcMetricsView(child);
    const empty = view && typeof view === 'object' && Object.keys(view).length === 0;
    if (view !== undefined && !empty) kept[key] = view;
  }
  return kept;
}

/** CSV text (header line, no quoting) as one record per row, values as strings (as DVC reads them). */
function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trim().split('\n');
  const columns = header.split(',');
  return rows.map((row) => Object.fromEntries(row.split(',').map((value, i) => [columns[i], value])));
}

/** The plots of `dvc plots show`'s index.html: element id → Vega-Lite spec. */
function htmlPlots(html: string): Map<string, { title: { text: string }; data: { values: unknown[] } }> {
  const plots = new Map();
  const pattern =
    /<div id = "([^"]+)">\s*<script type = "text\/javascript">\s*var spec = (.*);\s*vegaEmbed\('#\1', spec\);/g;
  for (const [, id, spec] of html.matchAll(pattern)) plots.set(id, JSON.parse(spec));
  return plots;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

describe('dvc.yaml for real DVC (checked without DVC too)', () => {
  it('caches every output: git ignores them, so the cache and the remote are where clones get them', async () => {
    const doc = YAML.parse(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8'));
    const uncached = Object.entries(doc.stages as Record<string, Record<string, unknown[]>>).flatMap(
      ([stage, s]) =>
        ['outs', 'metrics', 'plots']
          .flatMap((kind) => s[kind] ?? [])
          .filter((entry) => typeof entry === 'object' && Object.values(entry as object)[0]?.cache === false)
          .map((entry) => `${stage}: ${Object.keys(entry as object)[0]}`),
    );
    expect(uncached).toEqual([]);
  });

  it('declares no stage-level plots (the top-level plots draw them; DVC would draw each file twice)', async () => {
    const doc = YAML.parse(await readFile(path.join(REPO_ROOT, 'dvc.yaml'), 'utf8'));
    const withPlots = Object.entries(doc.stages as Record<string, { plots?: unknown }>).filter(
      ([, s]) => s.plots,
    );
    expect(withPlots.map(([name]) => name)).toEqual([]);
  });
});

(RUN ? describe : describe.skip)('dvc repro on a copy of the repository', () => {
  let repo: RepoCopy;
  let first: CommandResult;
  /** Every output file (dvc.lock's outs) right after the first `dvc repro`. */
  let dvcOutputs: Map<string, Buffer>;

  const read = (file: string) => readFile(path.join(repo.root, file), 'utf8');

  beforeAll(async () => {
    repo = await copyRepository(QUICK_PARAMS);
    first = await repo.dvc(['repro'], { env: { SOURCE_DATE_EPOCH }, timeoutMs: 240_000 });
    dvcOutputs = await readOutputs(repo.root, await lockedOutputs(repo.root));
  }, 300_000);
  afterAll(() => repo?.cleanup());

  it('runs the four stages in order and records each one in dvc.lock', async () => {
    expect(stagesRun(first.stdout)).toEqual(STAGES);
    const lock = YAML.parse(await read('dvc.lock'));
    const dvcYaml = YAML.parse(await read('dvc.yaml'));
    const params = YAML.parse(await read('params.yaml'));
    expect(lock.schema).toBe('2.0');
    expect(Object.keys(lock.stages)).toEqual(STAGES);
    for (const stage of STAGES) {
      const locked = lock.stages[stage];
      expect(locked.cmd).toBe(dvcYaml.stages[stage].cmd);
      // The params each stage declares, with the values params.yaml has (sections whole, dotted keys alone).
      const expected: Record<string, unknown> = {};
      for (const key of dvcYaml.stages[stage].params) {
        expected[key] = key
          .split('.')
          .reduce((node: Record<string, unknown>, k: string) => node[k] as never, params);
      }
      expect(locked.params['params.yaml']).toEqual(expected);
      // Every output has the md5 of its bytes (a folder: ".dir" and its file count).
      for (const out of locked.outs as { path: string; hash: string; md5: string; nfiles?: number }[]) {
        expect(out.hash).toBe('md5');
        const files = [...dvcOutputs.keys()].filter((f) => f === out.path || f.startsWith(`${out.path}/`));
        if (files.length === 1 && files[0] === out.path) {
          expect([out.path, out.md5]).toEqual([out.path, md5(dvcOutputs.get(out.path)!)]);
        } else {
          expect([out.path, out.md5]).toEqual([out.path, expect.stringMatching(/^[0-9a-f]{32}\.dir$/)]);
          expect([out.path, out.nfiles]).toEqual([out.path, files.length]);
        }
      }
    }
    expect(lock.stages.publish.outs.map((o: { path: string }) => o.path)).toEqual(['dist/model', 'releases']);
    expect(JSON.parse(dvcOutputs.get('dist/model/manifest.json')!.toString()).created).toBe(CREATED);
    // Every output is git-ignored (the DVC cache and remote carry them): git sees only the new dvc.lock.
    expect((await repo.git(['status', '--porcelain'])).stdout).toBe('?? dvc.lock\n');
    await repo.git(['add', 'dvc.lock']);
    await repo.git(['commit', '--quiet', '--message', 'dvc repro']);
  });

  it("the project's runner (npm run pipeline) writes byte-identical outputs", async () => {
    const other = await copyRepository(QUICK_PARAMS);
    try {
      const runner = await runCommand('npm', ['run', 'pipeline'], {
        cwd: other.root,
        env: { ...process.env, SOURCE_DATE_EPOCH, LOG_LEVEL: 'warn' },
        timeoutMs: 240_000,
      });
      expect([runner.status, runner.stderr]).toEqual([
        0,
        expect.stringContaining('pipeline: ran prepare, train, evaluate, publish in '),
      ]);
      const runnerOutputs = await readOutputs(other.root, await lockedOutputs(repo.root));
      expect([...runnerOutputs.keys()]).toEqual([...dvcOutputs.keys()]);
      const different = [...dvcOutputs].filter(([file, bytes]) => !bytes.equals(runnerOutputs.get(file)!));
      expect(different.map(([file]) => file)).toEqual([]);
      // Sanity: what was compared (model, metrics, bundle and the release).
      expect([...dvcOutputs.keys()]).toEqual(
        expect.arrayContaining([
          'data/prepared/train.jsonl',
          'models/weights.bin',
          'metrics.json',
          'reports/plots/roc.csv',
          'dist/model/manifest.json',
          'releases/model-v1.0.0/weights.bin',
        ]),
      );
    } finally {
      await other.cleanup();
    }
  }, 300_000);

  it('a second dvc repro runs nothing', async () => {
    const again = await repo.dvc(['repro']);
    expect(stagesRun(again.stdout)).toEqual([]);
    expect(again.stdout).toBe(
      STAGES.map((s) => `Stage '${s}' didn't change, skipping\n`).join('') +
        'Data and pipelines are up to date.\n',
    );
    expect((await repo.dvc(['status'])).stdout).toBe('Data and pipelines are up to date.\n');
  });

  it('dvc metrics show --json reports metrics.json', async () => {
    const shown = JSON.parse((await repo.dvc(['metrics', 'show', '--json'])).stdout);
    const metrics = JSON.parse(await read('metrics.json'));
    expect(shown).toEqual({ '': { data: { 'metrics.json': { data: dvcMetricsView(metrics) } } } });
    // Fixed by construction: the split and the quick params.
    expect(shown[''].data['metrics.json'].data.test.rows).toBe(179);
    expect(shown[''].data['metrics.json'].data.cross_validation.folds).toBe(2);
  });

  it('dvc plots show writes HTML with the history, ROC, precision-recall and confusion plots', async () => {
    await repo.dvc(['plots', 'show']);
    const plots = htmlPlots(await read('dvc_plots/index.html'));
    // Its default output folder is git-ignored.
    expect((await repo.git(['status', '--porcelain'])).stdout).toBe('');
    expect([...plots.keys()]).toEqual(['Training_history', 'ROC', 'Precision-recall', 'Confusion_matrix']);
    expect([...plots.values()].map((p) => p.title.text)).toEqual([
      'Training history',
      'ROC',
      'Precision-recall',
      'Confusion matrix',
    ]);
    // Each plot holds every row of its CSV file.
    const history = csvRecords(await read('reports/train_history.csv'));
    expect(history).toHaveLength(10);
    expect(plots.get('Training_history')!.data.values).toEqual(
      ['loss', 'val_loss', 'accuracy', 'val_accuracy'].flatMap((field) =>
        history.map((row) => ({ ...row, dvc_inferred_y_value: row[field], rev: 'workspace', field })),
      ),
    );
    for (const [id, file] of [
      ['ROC', 'reports/plots/roc.csv'],
      ['Precision-recall', 'reports/plots/precision_recall.csv'],
      ['Confusion_matrix', 'reports/plots/confusion.csv'],
    ]) {
      const rows = csvRecords(await read(file));
      expect([id, plots.get(id)!.data.values]).toEqual([
        id,
        rows.map((row) => ({ ...row, rev: 'workspace' })),
      ]);
    }
    expect(plots.get('Confusion_matrix')!.data.values).toHaveLength(179);
  });

  it('one changed param reruns exactly the stages that depend on it', async () => {
    const params = YAML.parse(await read('params.yaml'));
    const seed: number = params.evaluate.seed;
    const modelsBefore = await readOutputs(repo.root, ['models']);
    const metricsBefore = JSON.parse(await read('metrics.json'));
    await setParams(repo.root, { 'evaluate.seed': seed + 1 });

    const diff = await repo.dvc(['params', 'diff', '--json']);
    expect(JSON.parse(diff.stdout)).toEqual({
      'params.yaml': { 'evaluate.seed': { old: seed, new: seed + 1, diff: 1 } },
    });
    const table = (await repo.dvc(['params', 'diff'])).stdout;
    expect(table.split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['Path', 'Param', 'HEAD', 'workspace'],
      ['params.yaml', 'evaluate.seed', String(seed), String(seed + 1)],
      [''],
    ]);

    const rerun = await repo.dvc(['repro'], { timeoutMs: 240_000 });
    // evaluate reads evaluate.seed (cross-validation folds); publish depends on metrics.json.
    expect(stagesRun(rerun.stdout)).toEqual(['evaluate', 'publish']);
    expect(rerun.stdout).toContain(
      "Stage 'prepare' didn't change, skipping\nStage 'train' didn't change, skipping\n",
    );
    expect(await readOutputs(repo.root, ['models'])).toEqual(modelsBefore);
    const metrics = JSON.parse(await read('metrics.json'));
    expect(metrics.test).toEqual(metricsBefore.test);
    expect(metrics.cross_validation).not.toEqual(metricsBefore.cross_validation);
    expect((await repo.dvc(['status'])).stdout).toBe('Data and pipelines are up to date.\n');
    await repo.git(['commit', '--quiet', '--all', '--message', 'evaluate.seed']);
  }, 300_000);

  it('dvc exp run -S trains an experiment that dvc exp show lists with its params and metrics', async () => {
    const baseline = (await repo.git(['rev-parse', 'HEAD'])).stdout.trim();
    // A new model: publish it as another version (releases are immutable).
    const run = await repo.dvc(['exp', 'run', '--name', 'fewer-epochs', '--set-param', 'train.epochs=8'], {
      env: { SOURCE_DATE_EPOCH, PUBLISH_VERSION: '1.0.1' },
      timeoutMs: 240_000,
    });
    expect(stagesRun(run.stdout)).toEqual(['train', 'evaluate', 'publish']);
    expect(run.stdout).toContain('Ran experiment(s): fewer-epochs\n');
    const history = csvRecords(await read('reports/train_history.csv'));
    expect(history.at(-1)!.epoch).toBe('8');

    const shown = JSON.parse((await repo.dvc(['exp', 'show', '--json'])).stdout) as {
      rev: string;
      experiments?: { revs: { name: string; data: { params: unknown; metrics: unknown } }[] }[] | null;
    }[];
    const base = shown.find((r) => r.rev === baseline)!;
    const experiment = base.experiments!.flatMap((e) => e.revs).find((r) => r.name === 'fewer-epochs')!;
    // The experiment's results are in the workspace too.
    const params = YAML.parse(await read('params.yaml'));
    expect(params.train.epochs).toBe(8);
    expect(experiment.data.params).toEqual({ 'params.yaml': { data: params } });
    expect(experiment.data.metrics).toEqual({
      'metrics.json': { data: dvcMetricsView(JSON.parse(await read('metrics.json'))) },
    });
    const manifest = JSON.parse(await read('releases/model-v1.0.1/manifest.json'));
    expect([manifest.version, manifest.params.train.epochs, manifest.created]).toEqual(['1.0.1', 8, CREATED]);
  }, 300_000);
});
