import { describe, expect, it } from '@jest/globals';
import type { BundleManifest } from '@restaurant-sentiment/lib-ml';
import { releaseNotes } from '../src/release/notes.js';

const manifest = (metrics: Record<string, unknown>): BundleManifest =>
  ({
    manifestVersion: 1,
    name: 'restaurant-sentiment',
    version: '1.2.0',
    created: '2026-11-30T10:15:00.000Z',
    libMl: { version: '0.1.0', range: '^0.1.0' },
    params: { evaluate: { min_accuracy: 0.8 } },
    dataset: { source: 'yelp.json', sha256: 'ab'.repeat(32), rows: { train: 717, test: 179, fresh: 100 } },
    metrics,
    files: { 'weights.bin': { sha256: 'cd'.repeat(32), bytes: 48208 } },
  }) as unknown as BundleManifest;

const set = (rows: number, negative: number, accuracy: number, balanced: number, baseline: number) => ({
  rows,
  class_counts: { negative, positive: rows - negative },
  accuracy,
  balanced_accuracy: balanced,
  majority_baseline: baseline,
});

describe('release notes', () => {
  it('show balanced accuracy, the majority-class baseline and class counts next to every accuracy', () => {
    const notes = releaseNotes(
      manifest({
        test: {
          ...set(179, 80, 0.888268, 0.884975, 0.553073),
          precision: 0.9,
          recall: 0.909091,
          f1: 0.904523,
          roc_auc: 0.948,
        },
        cross_validation: {
          folds: 5,
          ...set(896, 401, 0.886, 0.883, 0.5525),
          accuracy_std: 0.01,
          fold_accuracy: [],
        },
        fresh: set(100, 96, 0.88, 0.697917, 0.96),
        out_of_domain: { amazon: set(1000, 500, 0.861, 0.861, 0.5), imdb: set(1000, 500, 0.814, 0.814, 0.5) },
      }),
    );
    const metrics = notes.slice(notes.indexOf('## Metrics'), notes.indexOf('## Files'));
    expect(metrics).toBe(
      [
        '## Metrics',
        '',
        'Balanced accuracy is the mean of the per-class recalls; the majority-class baseline is the accuracy of',
        "always answering the set's most frequent class. An accuracy at or below the baseline is no better than",
        'a constant answer.',
        '',
        '| set | rows (negative / positive) | accuracy | balanced accuracy | majority-class baseline |',
        '| --- | --- | --- | --- | --- |',
        '| held-out test | 179 (80 / 99) | 0.8883 | 0.8850 | 0.5531 |',
        '| 5-fold cross-validation (mean of folds) | 896 (401 / 495) | 0.8860 | 0.8830 | 0.5525 |',
        '| fresh rows | 100 (96 / 4) | 0.8800 | 0.6979 | 0.9600 |',
        '| out-of-domain: Amazon | 1000 (500 / 500) | 0.8610 | 0.8610 | 0.5000 |',
        '| out-of-domain: IMDb | 1000 (500 / 500) | 0.8140 | 0.8140 | 0.5000 |',
        '',
        '| held-out test | value |',
        '| --- | --- |',
        '| precision | 0.9000 |',
        '| recall | 0.9091 |',
        '| F1 | 0.9045 |',
        '| ROC AUC | 0.9480 |',
        '',
        '',
      ].join('\n'),
    );
  });

  it('say n/a for figures an older manifest lacks', () => {
    const notes = releaseNotes(
      manifest({ test: { rows: 179, accuracy: 0.9 }, fresh: { rows: 0, accuracy: null } }),
    );
    expect(notes).toContain('| held-out test | 179 | 0.9000 | n/a | n/a |');
    expect(notes).toContain('| ?-fold cross-validation (mean of folds) | n/a | n/a | n/a | n/a |');
    expect(notes).toContain('| fresh rows | 0 | n/a | n/a | n/a |');
  });
});
