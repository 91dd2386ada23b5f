// A max-image run frees every tensor it makes, resumed or not (issue 15, point 7: each run used to
// leak the tensor its tf.variable was made from).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxImageSettings } from '../../../src/shared/analyses/max-image';
import type { RunContext } from '../../../src/main/engine/analysis';
import { maxImage } from '../../../src/main/engine/analyses/max-image';
import { initBackend } from '../../../src/main/engine/backend';
import { resolveModel } from '../../../src/main/engine/models';

function context(resumeFrom: unknown = null): RunContext & { checkpoints: unknown[]; keys: string[] } {
  const checkpoints: unknown[] = [];
  const keys: string[] = [];
  return {
    runId: 1,
    seed: 5,
    resumeFrom,
    checkpoints,
    keys,
    cancelled: () => false,
    progress: () => undefined,
    emitResult: (key) => void keys.push(key),
    checkpoint: (state) => void checkpoints.push(state),
    loadModel: (id) => resolveModel(id, {}),
    log: () => undefined,
  };
}

describe('max-image run', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('leaves the live tensor count as it found it, fresh and resumed from a checkpoint', async () => {
    const settings = maxImageSettings.parse({ modelId: 'builtin:energy', steps: 6, checkpointEvery: 3 });
    const before = tf.memory().numTensors;
    const fresh = context();
    await maxImage.run(settings, fresh);
    expect(fresh.keys).toEqual(['snapshot/3', 'snapshot/6', 'unit/response/0']);
    expect(tf.memory().numTensors).toBe(before);
    const resumed = context(fresh.checkpoints[0]);
    await maxImage.run(settings, resumed);
    expect(resumed.keys).toEqual(['snapshot/6', 'unit/response/0']);
    expect(tf.memory().numTensors).toBe(before);
  });
});
