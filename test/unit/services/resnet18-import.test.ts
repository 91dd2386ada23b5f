// ResNet-18 reached as a user reaches it: a torchvision state dict saved as .safetensors is
// imported through the workbench (what the import dialog and "models import" call), read by the
// real engine process, and a run on one of its residual blocks completes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelDetail, ModelSummary, RunSummary } from '../../../src/shared/domain';
import { TORCHVISION_CONVENTION } from '../../../src/main/engine/models/resnet18';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import { resnet18StateDict, stateDictFile } from '../../helpers/safetensors';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();

function until(wb: Workbench, runId: number, timeoutMs = 120_000): Promise<RunSummary> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const r = wb.project.getRun(runId)!;
      if (r.status === 'done' || r.status === 'failed') return resolve(r);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out; run is ${r.status} at ${r.progress.step}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

describe('importing a ResNet-18 state dict', () => {
  const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'resnet.artiphys'), create: true, backend: 'cpu' });
  afterAll(() => wb.close());
  const call = <T>(method: string, params: unknown) => wb.call({ method, params }) as Promise<T>;

  it('imports with torchvision\'s convention and runs max-image on a residual block', { timeout: 180_000 }, async () => {
    const file = path.join(dir, 'resnet18-imagenet.safetensors');
    fs.writeFileSync(file, stateDictFile(resnet18StateDict(2)));
    const imported = await call<ModelSummary>('models.import', { path: file });
    expect(imported).toMatchObject({ format: 'safetensors', name: 'resnet18-imagenet', inputConvention: TORCHVISION_CONVENTION, source: file });
    expect(imported.conventionGuessed).toBeUndefined();
    const detail = await call<ModelDetail>('models.get', { modelId: imported.id });
    const block = '/layer1/layer1.0/relu_1/Relu_output_0';
    expect(detail.layers.find((l) => l.name === block)).toMatchObject({ op: 'Relu', shape: [56, 56, 64] });

    // A smaller input keeps the run short on a CPU; the block's units are the same.
    await call('models.setConvention', { modelId: imported.id, convention: { ...TORCHVISION_CONVENTION, inputSize: 64 } });
    const run = await call<RunSummary>('runs.start', { kind: 'max-image', settings: { modelId: imported.id, layer: block, channel: 3, steps: 4, checkpointEvery: 4 }, seed: 1 });
    const done = await until(wb, run.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');
    const unit = wb.project.listResults(run.id).find((r) => r.key === `unit/${block}/3`)!;
    // Gradient ascent on the image raises the unit's activation above where it started.
    expect(unit.data.activation as number).toBeGreaterThan((unit.data.trace as number[])[0]);
  });

  it('refuses a state dict of another network with one error naming the file', async () => {
    const weights = resnet18StateDict(3);
    weights.delete('fc.weight');
    const file = path.join(dir, 'not-resnet18.safetensors');
    fs.writeFileSync(file, stateDictFile(weights));
    await expect(call('models.import', { path: file })).rejects.toMatchObject({
      code: 'bad_model',
      message: expect.stringMatching(/not-resnet18\.safetensors: .*not a torchvision ResNet-18 state dict/),
    });
  });
});
