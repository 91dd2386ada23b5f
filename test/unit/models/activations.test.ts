// Activations of both shared networks against onnxruntime-node on real ImageNet images: every
// named graph output and a few intermediate tensors (made graph outputs in a copy of the file).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { loadImageBatch, type ImageBatch } from '../../../src/main/engine/images';
import type { NetworkModel } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { RESNET_FILE, SAMPLES, VGG_FILE, ortSession, relativeError, runOrt, withExtraOutputs } from './reference';

/** README convention of both files, written out independently of the engine: RGB 0..255 minus the mean. */
const MEAN = [123.68, 116.779, 103.939];
/** A colour image, one of the 4 greyscale ones, and a third of another aspect ratio. */
const IMAGES = ['n01440764_tench.JPEG', 'n04090263_rifle.JPEG', 'n02099712_Labrador_retriever.JPEG'];

function normalized(batch: ImageBatch): Float32Array {
  return batch.data.map((v, i) => v - MEAN[i % 3]);
}

async function compareAll(model: NetworkModel, session: InferenceSession, batch: ImageBatch, names: string[]) {
  const ref = await runOrt(session, normalized(batch), batch.shape, names);
  const ours = tf.tidy(() => model.forward(tf.tensor4d(batch.data, batch.shape), names));
  const errors = Object.fromEntries(
    names.map((n) => [n, relativeError({ data: ours[n].dataSync() as Float32Array, shape: ours[n].shape }, ref[n])]),
  );
  tf.dispose(Object.values(ours));
  return errors;
}

describe('activations match onnxruntime-node', () => {
  let batch: ImageBatch;
  beforeAll(async () => {
    await initBackend();
    batch = await loadImageBatch(IMAGES.map((f) => path.join(SAMPLES, f)));
  });

  describe('VGG-19 to pool3', () => {
    let model: NetworkModel;
    let session: InferenceSession;
    const outputs = ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu3_4', 'pool3'];
    const intermediates = ['/features.0/Conv_output_0', '/features.4/MaxPool_output_0', '/features.16/Conv_output_0'];
    beforeAll(async () => {
      model = await loadModelFile(VGG_FILE);
      session = await ortSession(withExtraOutputs(readFileSync(VGG_FILE), intermediates));
    });
    afterAll(() => model.dispose());

    it('every named output and intermediate tensors agree to 1e-4 relative', async () => {
      const errors = await compareAll(model, session, batch, [...outputs, ...intermediates]);
      for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-4);
    });
  });

  describe('ResNet-50', () => {
    let model: NetworkModel;
    let session: InferenceSession;
    const outputs = ['layer1', 'layer2', 'layer3', 'layer4', 'pool', 'logits'];
    const intermediates = [
      '/maxpool/MaxPool_output_0',
      '/layer2/layer2.0/downsample/downsample.1/BatchNormalization_output_0',
      '/layer3/layer3.1/Add_output_0',
      '/avgpool/GlobalAveragePool_output_0',
    ];
    beforeAll(async () => {
      model = await loadModelFile(RESNET_FILE);
      session = await ortSession(withExtraOutputs(readFileSync(RESNET_FILE), intermediates));
    });
    afterAll(() => model.dispose());

    it('every named output and intermediate tensors agree to 1e-4 relative', async () => {
      const errors = await compareAll(model, session, batch, [...outputs, ...intermediates]);
      for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-4);
    });

    it('a forward pass for an early layer runs only the nodes it needs, at any input size', async () => {
      const small = { data: batch.data.slice(0, 2 * 64 * 64 * 3), shape: [2, 64, 64, 3] as [number, number, number, number] };
      const errors = await compareAll(model, session, small, ['layer1', '/layer3/layer3.1/Add_output_0']);
      for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-4);
    });
  });
});
