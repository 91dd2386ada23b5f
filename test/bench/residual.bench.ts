// Residual-stream work on the shared ResNet-50 (METHODS §6-8): the Lucid-style visualization step
// (128 px, standard transforms) per channel when 16 channels share a batch and when one runs
// alone; the ablation's throughput in images per second for the full pass (per scale) and for
// the tails every ablation condition runs, next to onnxruntime-node's forward pass.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { activeBackend } from '../../src/main/engine/backend';
import { visualizeChannels } from '../../src/main/engine/fv/lucid';
import { loadImageBatch } from '../../src/main/engine/images';
import { loadModelFile } from '../../src/main/engine/models/load';
import { AblationExperiment } from '../../src/main/engine/residual/ablation';
import { findBlock } from '../../src/main/engine/residual/blocks';
import type { BenchModule } from './run';
import { transformSettings } from '../../src/shared/analyses/feature-vis';

/** Lucid's standard transforms: the feature-visualization settings' defaults. */
const LUCID_DEFAULTS = transformSettings.parse({});

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');
const RESNET = path.join(SHARED, 'models/resnet50_keras_imagenet.onnx');
const SAMPLES = path.join(SHARED, 'data/imagenet-samples');
const VIS_LAYER = '/layer3/layer3.0/bn3/BatchNormalization_output_0';
const STEPS = 8;
const IMAGES = 100;
const BATCH = 25;

const bench: BenchModule = {
  title: 'ResNet-50: Lucid visualization step per channel (batched / alone), ablation images per second vs onnxruntime-node',
  async run(report) {
    const backend = activeBackend()?.name ?? tf.getBackend();
    const model = await loadModelFile(RESNET);
    const visualize = async (channels: number[], steps: number) => {
      const r = await visualizeChannels(model, { layer: VIS_LAYER, channels, objective: 'neuron', size: 128, steps, learningRate: 0.05, transforms: LUCID_DEFAULTS, seed: 1 });
      r.images.dispose();
    };
    for (const n of [16, 1]) {
      const channels = Array.from({ length: n }, (_, i) => i);
      await visualize(channels, 2); // warm-up: kernels and schedules
      const start = performance.now();
      await visualize(channels, STEPS);
      const perStep = (performance.now() - start) / STEPS;
      report(`tfjs ${backend}: visualization step, ${n} channel${n > 1 ? 's' : ''} of layer3.0 Pre, 128 px`, perStep / n, 'ms/channel');
    }

    const rows = readFileSync(path.join(SAMPLES, 'labels.csv'), 'utf8').trim().split('\n').slice(1, IMAGES + 1).map((l) => l.split(','));
    const images = rows.map((r) => ({ file: path.join(SAMPLES, r[0]), label: Number(r[1]) }));
    const block = findBlock(model, 'layer4.2');
    const exp = new AblationExperiment({ model, layer: block.postBeforeRelu, beforeRelu: true, images, percents: [0], batchSize: BATCH });
    let start = performance.now();
    await exp.prepare();
    report(`tfjs ${backend}: full pass to logits (decoding included), ${IMAGES} images`, IMAGES / ((performance.now() - start) / 1000), 'images/s');
    start = performance.now();
    await exp.accuracy(Array.from({ length: 32 }, (_, i) => i), 0);
    report(`tfjs ${backend}: ablated tail from layer4.2 (per condition)`, IMAGES / ((performance.now() - start) / 1000), 'images/s');
    exp.dispose();
    model.dispose();

    const session = await ort.InferenceSession.create(RESNET);
    const mean = [123.68, 116.779, 103.939];
    const batches = [];
    for (let i = 0; i < IMAGES; i += BATCH) {
      const b = await loadImageBatch(images.slice(i, i + BATCH).map((x) => x.file));
      const nchw = tf.tidy(() => tf.transpose(tf.sub(tf.tensor4d(b.data, b.shape), mean), [0, 3, 1, 2]).dataSync() as Float32Array);
      batches.push(new ort.Tensor('float32', nchw, [b.shape[0], 3, 224, 224]));
    }
    await session.run({ input: batches[0] });
    start = performance.now();
    for (const input of batches) await session.run({ input });
    report(`onnxruntime-node ${ort.env.versions.common}: forward to logits, ${IMAGES} images`, IMAGES / ((performance.now() - start) / 1000), 'images/s');
  },
};

export default bench;
