/** Release notes of a model release: metrics tables, files, and the params it was trained with (Markdown). */
import type { BundleManifest } from '@restaurant-sentiment/lib-ml';
import YAML from 'yaml';
import type { Metrics } from '../stages/evaluate.js';

const fmt = (x: number | null | undefined): string => (typeof x === 'number' ? x.toFixed(4) : 'n/a');

/** Figures of one set as older and newer metrics.json files may hold them (any may be missing). */
interface SetFigures {
  rows?: number;
  class_counts?: { negative: number; positive: number };
  accuracy?: number | null;
  balanced_accuracy?: number | null;
  majority_baseline?: number | null;
}

function setRow(name: string, m: SetFigures | undefined): string {
  const counts = m?.class_counts ? ` (${m.class_counts.negative} / ${m.class_counts.positive})` : '';
  const rows = typeof m?.rows === 'number' ? `${m.rows}${counts}` : 'n/a';
  return `| ${name} | ${rows} | ${fmt(m?.accuracy)} | ${fmt(m?.balanced_accuracy)} | ${fmt(m?.majority_baseline)} |`;
}

/**
 * Markdown notes for release `model-v<version>`: every accuracy is shown with the set's class counts, its
 * balanced accuracy and its majority-class baseline (see evaluate/metrics.ts), then the test set's other
 * metrics, the files and the params.
 * @param manifest the bundle manifest (its metrics are a metrics.json).
 */
export function releaseNotes(manifest: BundleManifest): string {
  const m = manifest.metrics as unknown as Partial<Metrics>;
  const sets = [
    setRow('held-out test', m.test),
    setRow(`${m.cross_validation?.folds ?? '?'}-fold cross-validation (mean of folds)`, m.cross_validation),
    setRow('fresh rows', m.fresh),
    setRow('out-of-domain: Amazon', m.out_of_domain?.amazon),
    setRow('out-of-domain: IMDb', m.out_of_domain?.imdb),
  ];
  const testRows: Array<[string, string]> = [
    ['precision', fmt(m.test?.precision)],
    ['recall', fmt(m.test?.recall)],
    ['F1', fmt(m.test?.f1)],
    ['ROC AUC', fmt(m.test?.roc_auc)],
  ];
  const files = Object.entries(manifest.files).map(
    ([name, f]) => `| ${name} | ${f.bytes} | \`${f.sha256}\` |`,
  );
  return [
    `# ${manifest.name} ${manifest.version}`,
    '',
    `Trained on ${manifest.dataset.source} (sha256 \`${manifest.dataset.sha256}\`), rows: ` +
      Object.entries(manifest.dataset.rows)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') +
      `. lib-ml ${manifest.libMl.version} (readable by lib-ml ${manifest.libMl.range}).`,
    '',
    '## Metrics',
    '',
    'Balanced accuracy is the mean of the per-class recalls; the majority-class baseline is the accuracy of',
    "always answering the set's most frequent class. An accuracy at or below the baseline is no better than",
    'a constant answer.',
    '',
    '| set | rows (negative / positive) | accuracy | balanced accuracy | majority-class baseline |',
    '| --- | --- | --- | --- | --- |',
    ...sets,
    '',
    '| held-out test | value |',
    '| --- | --- |',
    ...testRows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## Files',
    '',
    '| file | bytes | sha256 |',
    '| --- | --- | --- |',
    ...files,
    '',
    '## Params',
    '',
    '```yaml',
    YAML.stringify(manifest.params).trimEnd(),
    '```',
    '',
  ].join('\n');
}
