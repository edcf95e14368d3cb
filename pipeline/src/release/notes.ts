/** Release notes of a model release: a metrics table and the params it was trained with (Markdown). */
import type { BundleManifest } from '@restaurant-sentiment/lib-ml';
import YAML from 'yaml';
import type { Metrics } from '../stages/evaluate.js';

const fmt = (x: number | null | undefined): string => (typeof x === 'number' ? x.toFixed(4) : 'n/a');

/**
 * Markdown notes for release `model-v<version>`.
 * @param manifest the bundle manifest (its metrics are a metrics.json).
 */
export function releaseNotes(manifest: BundleManifest): string {
  const m = manifest.metrics as unknown as Metrics;
  const rows: Array<[string, string, string]> = [
    ['held-out test', 'accuracy', fmt(m.test?.accuracy)],
    ['held-out test', 'precision', fmt(m.test?.precision)],
    ['held-out test', 'recall', fmt(m.test?.recall)],
    ['held-out test', 'F1', fmt(m.test?.f1)],
    ['held-out test', 'ROC AUC', fmt(m.test?.roc_auc)],
    [
      `${m.cross_validation?.folds ?? '?'}-fold cross-validation`,
      'accuracy',
      fmt(m.cross_validation?.accuracy),
    ],
    ['fresh rows', 'accuracy', fmt(m.fresh?.accuracy)],
    ['out-of-domain: Amazon', 'accuracy', fmt(m.out_of_domain?.amazon?.accuracy)],
    ['out-of-domain: IMDb', 'accuracy', fmt(m.out_of_domain?.imdb?.accuracy)],
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
    '| set | metric | value |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
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
