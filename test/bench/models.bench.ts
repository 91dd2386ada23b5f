// Input-gradient step time of VGG-19 up to relu3_1 on a batch of 6 RF-sized images (METHODS §2
// runs exactly this step), with the forward pass alone, next to onnxruntime-node's forward pass
// on the same batch as a speed reference (it has no gradients).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { activeBackend } from '../../src/main/engine/backend';
import { findLayer, rfSizedInput } from '../../src/main/engine/model';
import { loadModelFile } from '../../src/main/engine/models/load';
import type { BenchModule } from './run';

const { onnx } = onnxProto;
const VGG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const LAYER = 'relu3_1';
const BATCH = 6;
const STEPS = 30;

/** The ONNX model cut after `output`, so onnxruntime computes no more than the engine does. */
function truncated(bytes: Uint8Array, output: string): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const needed = new Set([output]);
  for (const node of [...g.node!].reverse()) if (node.output!.some((o) => needed.has(o))) node.input!.forEach((i) => needed.add(i));
  g.node = g.node!.filter((n) => n.output!.some((o) => needed.has(o)));
  g.initializer = g.initializer!.filter((t) => needed.has(t.name!));
  g.output = g.output!.filter((o) => o.name === output);
  return onnx.ModelProto.encode(m).finish();
}

async function msPerStep(step: () => void | Promise<void>): Promise<number> {
  for (let i = 0; i < 3; i++) await step();
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) await step();
  return (performance.now() - start) / STEPS;
}

const bench: BenchModule = {
  title: `VGG-19 to ${LAYER}: input-gradient step on ${BATCH} RF-sized images, and onnxruntime-node forward`,
  async run(report) {
    const model = await loadModelFile(VGG_FILE);
    const side = rfSizedInput(findLayer(model, LAYER));
    const backend = activeBackend()?.name ?? tf.getBackend();
    const pixels = tf.randomUniform([BATCH, side, side, 3], 0, 255, 'float32', 1) as tf.Tensor4D;
    const centre = Math.floor(tf.tidy(() => model.forward(pixels, [LAYER])[LAYER].shape[1]!) / 2);
    const objective = (x: tf.Tensor) =>
      tf.sum(tf.slice(model.forward(x as tf.Tensor4D, [LAYER])[LAYER], [0, centre, centre, 0], [-1, 1, 1, 1]));
    const gradient = tf.grad(objective);
    const before = tf.memory().numTensors;
    report(`tfjs ${backend}: gradient step, ${BATCH} x ${side} px`, await msPerStep(() => tf.tidy(() => void gradient(pixels).dataSync())), 'ms');
    report(`tfjs ${backend}: forward only, ${BATCH} x ${side} px`, await msPerStep(() => tf.tidy(() => void model.forward(pixels, [LAYER])[LAYER].dataSync())), 'ms');
    report('tensors leaked over the timed steps', tf.memory().numTensors - before, 'tensors');

    const session = await ort.InferenceSession.create(truncated(readFileSync(VGG_FILE), LAYER));
    const nchw = tf.tidy(() => tf.transpose(tf.sub(pixels, [123.68, 116.779, 103.939]), [0, 3, 1, 2]).dataSync() as Float32Array);
    const input = new ort.Tensor('float32', nchw, [BATCH, 3, side, side]);
    report(`onnxruntime-node ${ort.env.versions.common}: forward only, ${BATCH} x ${side} px`, await msPerStep(async () => void (await session.run({ input }))), 'ms');
    pixels.dispose();
    model.dispose();
  },
};

export default bench;
