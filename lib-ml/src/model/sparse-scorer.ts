/**
 * Fast serving of the classifier on sparse features. The first Dense layer is applied to the non-zero
 * columns only (a review has a few hundred of ~12,000 features), the rest of the stack — small dense
 * layers — in plain JavaScript. Works for sequential models made of Dense layers (activations linear,
 * relu, sigmoid, tanh) and Dropout (identity at inference), i.e. both classifiers of this project; for
 * anything else {@link SparseScorer.from} returns null and callers use tfjs.
 *
 * Numerics: weights and features are the same float32 values tfjs uses; sums are accumulated in float64,
 * so scores agree with tfjs to about 1e-6.
 */
import type * as tf from '@tensorflow/tfjs';
import type { SparseRow } from '../vectorizer/tfidf.js';

type Activation = (x: number) => number;

const ACTIVATIONS: Record<string, Activation> = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
};

interface DenseWeights {
  /** Row-major kernel of shape [inputs, units]. */
  kernel: Float32Array;
  /** Bias of length units (zeros when the layer has none). */
  bias: Float32Array;
  inputs: number;
  units: number;
  activation: Activation;
}

/** Scores sparse feature rows with a copy of a model's weights. */
export class SparseScorer {
  private constructor(private readonly layers: DenseWeights[]) {}

  /**
   * Builds a scorer from a model, or null when the model has layers other than Dense/Dropout, an
   * unsupported activation, or more than one output unit.
   */
  static from(model: tf.LayersModel): SparseScorer | null {
    const layers: DenseWeights[] = [];
    for (const layer of model.layers) {
      const kind = layer.getClassName();
      if (kind === 'Dropout' || kind === 'InputLayer') continue;
      if (kind !== 'Dense') return null;
      const config = layer.getConfig() as { activation?: string; useBias?: boolean };
      const activation = ACTIVATIONS[config.activation ?? 'linear'];
      if (!activation) return null;
      const [kernelTensor, biasTensor] = layer.getWeights();
      const [inputs, units] = kernelTensor.shape as [number, number];
      layers.push({
        kernel: Float32Array.from(kernelTensor.dataSync()),
        bias: biasTensor ? Float32Array.from(biasTensor.dataSync()) : new Float32Array(units),
        inputs,
        units,
        activation,
      });
    }
    if (layers.length === 0 || layers[layers.length - 1].units !== 1) return null;
    return new SparseScorer(layers);
  }

  /** Width of the input the model expects (the vectorizer's nFeatures). */
  get inputs(): number {
    return this.layers[0].inputs;
  }

  /**
   * Positive-class probabilities.
   * @param rows sparse rows whose indices are < {@link inputs}.
   * @returns rows.length scores in [0, 1].
   */
  score(rows: readonly SparseRow[]): Float32Array {
    const out = new Float32Array(rows.length);
    const [first, ...rest] = this.layers;
    const hidden = new Float64Array(first.units);
    rows.forEach((row, r) => {
      for (let j = 0; j < first.units; j++) hidden[j] = first.bias[j];
      for (let k = 0; k < row.indices.length; k++) {
        const base = row.indices[k] * first.units;
        const v = row.values[k];
        for (let j = 0; j < first.units; j++) hidden[j] += v * first.kernel[base + j];
      }
      let current: ArrayLike<number> = Array.from(hidden, first.activation);
      for (const layer of rest) {
        const next = new Float64Array(layer.units);
        for (let j = 0; j < layer.units; j++) {
          let sum = layer.bias[j];
          for (let i = 0; i < layer.inputs; i++) sum += current[i] * layer.kernel[i * layer.units + j];
          next[j] = layer.activation(sum);
        }
        current = next;
      }
      out[r] = current[0];
    });
    return out;
  }
}
