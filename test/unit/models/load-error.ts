// What loading a model file throws, for the tests of bad and fuzzed files in every format.
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError } from '../../../src/main/engine/errors';
import type { NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile, type LoadOptions } from '../../../src/main/engine/models/load';

/** The error loading `file` throws, or null when it loads (the model is disposed). */
export async function loadOutcome(file: string, opts?: LoadOptions): Promise<Error | null> {
  return loadModelFile(file, opts).then(
    (m) => {
      m.dispose();
      return null;
    },
    (e: Error) => e,
  );
}

/** The error loading `file` throws; the test fails when it loads. */
export async function loadError(file: string, opts?: LoadOptions): Promise<Error> {
  const err = await loadOutcome(file, opts);
  if (!err) throw new Error(`${file} loaded`);
  return err;
}

/**
 * One fuzzed file: 'loaded' when it loads (and then it must also run at its usual input size) or
 * 'rejected' with a ModelFormatError; any other error fails the test, `context()` saying which file.
 */
export async function fuzzedLoad(file: string, context: () => string): Promise<'loaded' | 'rejected'> {
  let model: NetworkModel;
  try {
    model = await loadModelFile(file);
  } catch (err) {
    if (err instanceof ModelFormatError) return 'rejected';
    throw new Error(`${context()} threw ${String(err)}`, { cause: err });
  }
  try {
    const size = model.inputConvention.inputSize;
    tf.tidy(() => {
      const out = model.forward(tf.zeros([1, size, size, 3]), [model.layers[model.layers.length - 1].name]);
      Object.values(out).forEach((t) => t.dataSync());
    });
    return 'loaded';
  } catch (err) {
    // A model that loads but cannot run its usual input gives a clear error too.
    if (err instanceof ModelFormatError) return 'rejected';
    throw new Error(`${context()} threw ${String(err)}`, { cause: err });
  } finally {
    model.dispose();
  }
}
