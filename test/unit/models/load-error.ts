// What loading a model file throws, for the tests of bad files in every format.
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
