/**
 * The sentiment classifier: a tfjs LayersModel over the vectorizer's features, and its training loop.
 */
import * as tf from '@tensorflow/tfjs';
import { selectRows, toTensor, type FeatureMatrix } from '../vectorizer/tfidf.js';
import { createRandom, permutation } from './random.js';

/** Model settings (`train` section of params.yaml). */
export interface ClassifierConfig {
  /** "logistic_regression": one sigmoid Dense unit; "mlp": Dense(relu) → Dropout → Dense(sigmoid). */
  type: 'logistic_regression' | 'mlp';
  /** Hidden units of the MLP (ignored for logistic regression). */
  hiddenUnits: number;
  /** Dropout rate in [0, 1) after the MLP's hidden layer. */
  dropout: number;
  /** L2 penalty on the kernels (added to the loss as l2 · Σw²). */
  l2: number;
  /** Seed of the weight initializers and dropout masks. */
  seed: number;
}

/** Training-loop settings (`train` section of params.yaml). */
export interface TrainConfig {
  /** Adam learning rate. */
  learningRate: number;
  /** Maximum number of epochs. */
  epochs: number;
  /** Rows per gradient step. */
  batchSize: number;
  /** Fraction of the rows held out (stratified, seeded) to watch validation loss; 0 disables early stopping. */
  validationSplit: number;
  /** Stop after this many epochs without a lower validation loss, then restore the best weights. */
  patience: number;
  /** Seed of the validation hold-out and of the per-epoch shuffling. */
  seed: number;
}

/** One row of the training history (`reports/train_history.csv`). */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  /** Validation loss/accuracy; null when validationSplit is 0. */
  valLoss: number | null;
  valAccuracy: number | null;
}

/**
 * Builds an untrained, compiled classifier.
 * @param nFeatures input width (the vectorizer's nFeatures).
 * @returns a model mapping [batch, nFeatures] → [batch, 1] probabilities of the positive class.
 */
export function buildClassifier(
  nFeatures: number,
  config: ClassifierConfig,
  learningRate = 0.01,
): tf.LayersModel {
  const regularizer = config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined;
  const model = tf.sequential();
  if (config.type === 'mlp') {
    model.add(
      tf.layers.dense({
        inputShape: [nFeatures],
        units: config.hiddenUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed }),
        kernelRegularizer: regularizer,
      }),
    );
    if (config.dropout > 0) model.add(tf.layers.dropout({ rate: config.dropout, seed: config.seed }));
    model.add(
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed + 1 }),
      }),
    );
  } else {
    model.add(
      tf.layers.dense({
        inputShape: [nFeatures],
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.zeros(),
        kernelRegularizer: regularizer,
      }),
    );
  }
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: 'binaryCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

/** Splits row indices into a stratified, seeded (train, validation) pair. */
function holdOut(
  labels: readonly number[],
  fraction: number,
  seed: number,
): { train: number[]; val: number[] } {
  const random = createRandom(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (const cls of [0, 1]) {
    const rows = labels.flatMap((l, i) => (l === cls ? [i] : []));
    const order = permutation(rows.length, random).map((i) => rows[i]);
    const nVal = Math.round(rows.length * fraction);
    val.push(...order.slice(0, nVal));
    train.push(...order.slice(nVal));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/** Mean binary cross-entropy and accuracy of `model` on (x, y). */
function evaluateLoss(
  model: tf.LayersModel,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const p = model.apply(x) as tf.Tensor2D;
    const loss = tf.metrics.binaryCrossentropy(y, p).mean().dataSync()[0];
    const accuracy = tf.metrics.binaryAccuracy(y, p).mean().dataSync()[0];
    return { loss, accuracy };
  });
}

/** Labels of `rows` as a [rows.length, 1] tensor. */
function labelTensor(labels: readonly number[], rows: readonly number[]): tf.Tensor2D {
  return tf.tensor2d(
    rows.map((i) => labels[i]),
    [rows.length, 1],
  );
}

/**
 * Trains `model` with mini-batch Adam, seeded shuffling and early stopping on validation loss (best
 * weights restored). Same inputs, config and backend → same weights on every run.
 *
 * @param x features, shape [n, nFeatures] (batches are copied from this plain matrix, which is much
 *   faster than gathering rows of a tensor on the wasm backend).
 * @param labels n labels in {0, 1}.
 * @param onEpoch called after every epoch (for progress output).
 * @returns the per-epoch history (length ≤ config.epochs).
 * @throws Error when labels.length differs from x.rows.
 */
export async function trainClassifier(
  model: tf.LayersModel,
  x: FeatureMatrix,
  labels: readonly number[],
  config: TrainConfig,
  onEpoch?: (record: EpochRecord) => void,
): Promise<EpochRecord[]> {
  if (labels.length !== x.rows) {
    throw new Error(`trainClassifier: ${labels.length} labels for ${x.rows} rows`);
  }
  const split =
    config.validationSplit > 0
      ? holdOut(labels, config.validationSplit, config.seed)
      : { train: labels.map((_, i) => i), val: [] };
  const trainMatrix = selectRows(x, split.train);
  const trainLabels = split.train.map((i) => labels[i]);
  const xTrain = toTensor(trainMatrix);
  const yTrain = labelTensor(labels, split.train);
  const xVal = split.val.length ? toTensor(selectRows(x, split.val)) : null;
  const yVal = split.val.length ? labelTensor(labels, split.val) : null;

  const random = createRandom(config.seed + 1);
  const history: EpochRecord[] = [];
  let best: { loss: number; weights: tf.Tensor[] } | null = null;
  let sinceBest = 0;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const order = permutation(trainMatrix.rows, random);
      for (let start = 0; start < order.length; start += config.batchSize) {
        const batch = order.slice(start, start + config.batchSize);
        const xb = toTensor(selectRows(trainMatrix, batch));
        const yb = labelTensor(trainLabels, batch);
        await model.trainOnBatch(xb, yb);
        tf.dispose([xb, yb]);
      }
      const trainScore = evaluateLoss(model, xTrain, yTrain);
      const valScore = xVal && yVal ? evaluateLoss(model, xVal, yVal) : null;
      const record: EpochRecord = {
        epoch,
        loss: trainScore.loss,
        accuracy: trainScore.accuracy,
        valLoss: valScore?.loss ?? null,
        valAccuracy: valScore?.accuracy ?? null,
      };
      history.push(record);
      onEpoch?.(record);
      if (!valScore) continue;
      if (!best || valScore.loss < best.loss) {
        if (best) tf.dispose(best.weights);
        best = { loss: valScore.loss, weights: model.getWeights().map((w) => w.clone()) };
        sinceBest = 0;
      } else if (++sinceBest >= config.patience) {
        break;
      }
    }
    if (best) model.setWeights(best.weights);
  } finally {
    if (best) tf.dispose(best.weights);
    tf.dispose([xTrain, yTrain, ...(xVal ? [xVal] : []), ...(yVal ? [yVal] : [])]);
  }
  return history;
}

/**
 * Positive-class probabilities.
 * @param x features, shape [n, nFeatures].
 * @returns n scores in [0, 1].
 */
export function predictScores(model: tf.LayersModel, x: tf.Tensor2D): Float32Array {
  return tf.tidy(() => (model.apply(x) as tf.Tensor2D).reshape([-1]).dataSync() as Float32Array);
}
