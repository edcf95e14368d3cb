/** Paths of the pipeline's files, relative to the repository root (as declared in dvc.yaml). */
export const PATHS = {
  params: 'params.yaml',
  prepared: 'data/prepared',
  train: 'data/prepared/train.jsonl',
  test: 'data/prepared/test.jsonl',
  fresh: 'data/prepared/fresh.jsonl',
  stats: 'data/prepared/stats.json',
  models: 'models',
  /** sha256 of the train.jsonl the model in models/ was trained on. */
  training: 'models/training.json',
  /** Which model (weights sha256) and data the current metrics.json describes. */
  evaluated: 'reports/evaluated.json',
  /** The evaluated model's drift reference (held-out test split), which publish puts in the manifest. */
  reference: 'reports/reference.json',
  history: 'reports/train_history.csv',
  metrics: 'metrics.json',
  plots: 'reports/plots',
  dist: 'dist/model',
} as const;
