/**
 * tfjs backend selection. WebAssembly is the default everywhere; the native TensorFlow backend of
 * `@tensorflow/tfjs-node` is used only when that package is installed for real and loads (it is never a
 * dependency: its install script downloads libtensorflow). `cpu` (pure JS) is the last resort.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** Backends {@link initBackend} accepts. "auto" = tensorflow if it loads, else wasm, else cpu. */
export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

let active: Promise<string> | null = null;

async function tryTensorflowBackend(): Promise<boolean> {
  try {
    // Only the real package registers the "tensorflow" backend; the npm override that maps the name to
    // plain @tensorflow/tfjs (for danfojs-node) does not.
    await import(/* webpackIgnore: true */ '@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

/**
 * Selects and initializes the tfjs backend once per process; later calls return the same result.
 * @param choice defaults to the `TFJS_BACKEND` environment variable, else "wasm".
 * @returns the name of the active backend ("tensorflow", "wasm" or "cpu").
 * @throws Error when the requested backend cannot be initialized (never for "auto").
 */
export function initBackend(choice?: BackendChoice): Promise<string> {
  active ??= (async () => {
    const wanted = choice ?? (process.env.TFJS_BACKEND as BackendChoice | undefined) ?? 'wasm';
    if (!['auto', 'wasm', 'cpu', 'tensorflow'].includes(wanted)) {
      throw new Error(`TFJS_BACKEND must be one of auto, wasm, cpu, tensorflow (got "${wanted}")`);
    }
    if ((wanted === 'auto' || wanted === 'tensorflow') && (await tryTensorflowBackend())) return 'tensorflow';
    if (wanted === 'tensorflow')
      throw new Error('the tensorflow backend needs @tensorflow/tfjs-node installed');
    if (wanted !== 'cpu' && (await tf.setBackend('wasm'))) {
      await tf.ready();
      return 'wasm';
    }
    if (wanted === 'wasm') throw new Error('the wasm backend failed to initialize');
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  })();
  return active;
}
