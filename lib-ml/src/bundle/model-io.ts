/**
 * tfjs LayersModel ⇄ `model.json` + `weights.bin` bytes, through custom IO handlers
 * (`tf.io.withSaveHandler` and a `{load}` handler): the `file://` scheme exists only in tfjs-node.
 * The files follow the standard tfjs "layers-model" format, so tfjs tooling can read them too.
 */
import * as tf from '@tensorflow/tfjs';

/** Name of the weights file referenced from model.json's weightsManifest. */
export const WEIGHTS_FILE = 'weights.bin';

/** The two files of a saved model, as bytes. */
export interface SerializedModel {
  /** UTF-8 JSON: modelTopology, format, generatedBy, convertedBy, weightsManifest. */
  modelJson: Buffer;
  /** Concatenated little-endian weight values, in weightsManifest order. */
  weights: Buffer;
}

/**
 * Serializes a model.
 * @returns model.json and weights.bin contents; identical weights give identical bytes.
 */
export async function serializeModel(model: tf.LayersModel): Promise<SerializedModel> {
  let out: SerializedModel | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const weights = Buffer.concat(
        (Array.isArray(weightData) ? weightData : weightData ? [weightData] : []).map((b) => Buffer.from(b)),
      );
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      out = { modelJson: Buffer.from(JSON.stringify(modelJson)), weights };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!out) throw new Error('serializeModel: the save handler was not called');
  return out;
}

/**
 * Restores a model from model.json and weights.bin bytes.
 * @throws Error when model.json is not valid JSON or the weights do not match the topology.
 */
export async function deserializeModel(modelJson: Uint8Array, weights: Uint8Array): Promise<tf.LayersModel> {
  const parsed = JSON.parse(Buffer.from(modelJson).toString('utf8'));
  const weightSpecs = (parsed.weightsManifest ?? []).flatMap(
    (group: { weights: tf.io.WeightsManifestEntry[] }) => group.weights,
  );
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer;
  return tf.loadLayersModel({
    load: async () => ({
      modelTopology: parsed.modelTopology,
      format: parsed.format,
      generatedBy: parsed.generatedBy,
      convertedBy: parsed.convertedBy,
      weightSpecs,
      weightData,
    }),
  });
}
