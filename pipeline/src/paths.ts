/** Paths of the pipeline's files, relative to the repository root (as declared in dvc.yaml). */
export const PATHS = {
  params: 'params.yaml',
  prepared: 'data/prepared',
  train: 'data/prepared/train.jsonl',
  test: 'data/prepared/test.jsonl',
  fresh: 'data/prepared/fresh.jsonl',
  stats: 'data/prepared/stats.json',
  models: 'models',
  history: 'reports/train_history.csv',
  metrics: 'metrics.json',
  plots: 'reports/plots',
  dist: 'dist/model',
} as const;
