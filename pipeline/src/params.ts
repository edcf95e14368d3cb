/**
 * params.yaml: the pipeline's parameters, sectioned by stage, validated with zod. Every key is required
 * and unknown keys are rejected, so a missing or mistyped param stops the stage naming the key.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClassifierConfig, TrainConfig, VectorizerConfig } from '@restaurant-sentiment/lib-ml';
import semver from 'semver';
import YAML from 'yaml';
import { z } from 'zod';
import { PipelineError } from './errors.js';

const range = z
  .tuple([z.number().int().min(1), z.number().int().min(1)])
  .refine(([a, b]) => a <= b, 'range must be [min, max] with min <= max');
const ngram = z.strictObject({
  ngram_range: range,
  max_features: z.number().int().min(1),
  min_df: z.number().int().min(1),
});
const fraction = z.number().min(0).max(1);
const semverVersion = z
  .string()
  .regex(
    /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/,
    'must be a semver version such as 1.2.3 or 1.2.4-pre.20261130.1015',
  );

/** Schema of params.yaml. */
export const paramsSchema = z.strictObject({
  data: z.strictObject({
    /** "sentiment-package": yelp.json shipped by the `sentiment` npm package; "url": a TSV download. */
    source: z.enum(['sentiment-package', 'url']),
    url: z.string().url().nullable(),
    /** Expected sha256 of the url download (required with source "url"). */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
      .nullable(),
    /** The first historic_rows raw rows are the historic dump; the rest is the "fresh" evaluation set. */
    historic_rows: z.number().int().min(1).nullable(),
  }),
  prepare: z.strictObject({
    test_size: z.number().gt(0).lt(1),
    seed: z.number().int(),
    /** What to do with rows that have a bad label, empty text or invalid UTF-8. */
    invalid_rows: z.enum(['fail', 'drop']),
    /**
     * User feedback from model-service: when enabled, every `feedback*.jsonl` file of the folder `dir`
     * (relative to the repository root) is merged into the training set (see data/feedback.ts).
     */
    feedback: z.strictObject({ enabled: z.boolean(), dir: z.string().min(1) }),
  }),
  vectorizer: z.strictObject({
    word: ngram,
    char: ngram.extend({ enabled: z.boolean() }),
    sublinear_tf: z.boolean(),
    lexicons: z.array(z.enum(['afinn', 'vader'])),
    /** Negation scope rules of lib-ml's markNegation: "punctuation" (the original) or "clause". */
    negation: z.enum(['punctuation', 'clause']),
  }),
  train: z.strictObject({
    model: z.enum(['logistic_regression', 'mlp']),
    mlp: z.strictObject({ hidden_units: z.number().int().min(1), dropout: z.number().min(0).lt(1) }),
    l2: z.number().min(0),
    learning_rate: z.number().gt(0),
    epochs: z.number().int().min(1),
    batch_size: z.number().int().min(1),
    validation_split: z.number().min(0).lt(1),
    patience: z.number().int().min(1),
    seed: z.number().int(),
  }),
  evaluate: z.strictObject({
    folds: z.number().int().min(2),
    seed: z.number().int(),
    min_accuracy: fraction,
    /**
     * Champion/challenger (evaluate/champion.ts): the released model the new one is compared with on the
     * same test + fresh rows, and the significance level of McNemar's test that publish refuses on.
     */
    champion: z.strictObject({
      version: z
        .string()
        .min(1)
        .refine(
          (v) =>
            v === 'latest' ||
            v === 'none' ||
            semver.valid(semver.clean(v) ?? '') !== null ||
            semver.validRange(v) !== null,
          'must be latest (the newest stable release), none (no comparison), a version such as 1.2.3 or a semver range such as ^1.2',
        ),
      alpha: z.number().gt(0).lt(1),
    }),
    /** Behavioural suite (evaluate/behavioural.ts): evaluate fails when a capability's pass rate is below this; null = off. */
    behavioural: z.strictObject({ min_pass_rate: fraction.nullable() }),
  }),
  publish: z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
    version: semverVersion,
    registry_dir: z.string().min(1),
    /** Also create GitHub release model-v<version> (needs GITHUB_TOKEN and GITHUB_REPOSITORY). */
    github: z.boolean(),
  }),
});

/** Parsed params.yaml. */
export type Params = z.infer<typeof paramsSchema>;

/**
 * Validates parsed YAML as params.
 * @param source file name used in error messages.
 * @throws PipelineError listing every bad key as `section.key: problem`.
 */
export function parseParams(data: unknown, source = 'params.yaml'): Params {
  const result = paramsSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const keys =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')
        : '';
    const where = keys || issue.path.join('.') || '(top level)';
    if (where === 'prepare.feedback.path') {
      return `${where}: replaced by prepare.feedback.dir, the feedback folder (every feedback*.jsonl in it is read)`;
    }
    if (issue.code === 'unrecognized_keys') return `${where}: unknown key (mistyped?)`;
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
      return `${where}: missing`;
    return `${where}: ${issue.message}`;
  });
  throw new PipelineError(`${source}: invalid params:\n  - ${problems.join('\n  - ')}`);
}

/**
 * Reads and validates `<root>/params.yaml`.
 * @throws PipelineError when the file is missing, is not YAML, or fails validation.
 */
export async function loadParams(root: string): Promise<Params> {
  const file = path.join(root, 'params.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PipelineError(`${file}: cannot read the params file`);
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new PipelineError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  const params = parseParams(data, file);
  if (params.data.source === 'url' && (!params.data.url || !params.data.sha256)) {
    throw new PipelineError(`${file}: data.url and data.sha256 are required when data.source is "url"`);
  }
  return params;
}

/** The lib-ml vectorizer config for these params. */
export function vectorizerConfig(p: Params): VectorizerConfig {
  const { word, char } = p.vectorizer;
  return {
    word: { ngramRange: word.ngram_range, maxFeatures: word.max_features, minDf: word.min_df },
    char: char.enabled
      ? { ngramRange: char.ngram_range, maxFeatures: char.max_features, minDf: char.min_df }
      : null,
    sublinearTf: p.vectorizer.sublinear_tf,
    lexicons: p.vectorizer.lexicons,
    negation: p.vectorizer.negation,
  };
}

/** The lib-ml classifier config for these params. */
export function classifierConfig(p: Params): ClassifierConfig {
  return {
    type: p.train.model,
    hiddenUnits: p.train.mlp.hidden_units,
    dropout: p.train.mlp.dropout,
    l2: p.train.l2,
    seed: p.train.seed,
  };
}

/** The lib-ml training-loop config for these params. */
export function trainConfig(p: Params): TrainConfig {
  return {
    learningRate: p.train.learning_rate,
    epochs: p.train.epochs,
    batchSize: p.train.batch_size,
    validationSplit: p.train.validation_split,
    patience: p.train.patience,
    seed: p.train.seed,
  };
}
