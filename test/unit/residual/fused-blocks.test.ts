// Residual blocks on a BN-fused graph, as PyTorch's classic exporter writes a ResNet: no batch
// norms (they are folded into the convs' weights and biases), only Conv, Relu, MaxPool, Add. The
// network is encoded here as an ONNX file with torchvision's export names and read by the real
// ONNX reader: an identity block after the max pool, a block with a projection shortcut (a
// strided 1x1 downsample conv) and an identity block after it. The blocks' In / Pre / Post
// tensors are checked by name, computed against onnxruntime-node, and a scale-invariance run on
// the projection block is stored in a real project.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { NetworkModel } from '../../../src/main/engine/model';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import { findResidualBlocks, type ResidualBlock } from '../../../src/main/engine/residual/blocks';
import { ProjectDb } from '../../../src/main/services/project-db';
import { tempDir } from '../../helpers/temp';
import { runInto } from '../gallery/helpers';
import { buildModel, ints, weights, type InitSpec, type NodeSpec } from '../models/onnx-builder';
import { layerErrorsAgainstOrt } from './against-ort';

const dir = tempDir('fused-blocks-');

/**
 * A small ResNet (stem 4 channels, layer1.0 4, layer2.0 and layer2.1 8) as the classic exporter
 * writes it after folding the batch norms: every conv has a bias. `scoped` names tensors like
 * torchvision's export (`/layer2/layer2.0/conv2/Conv_output_0`); otherwise they are numbered
 * (`conv_3`), as in exports that keep no module names.
 */
function fusedResNet(scoped: boolean): Uint8Array {
  const nodes: NodeSpec[] = [];
  const inits: Record<string, InitSpec> = {};
  let count = 0;
  const add = (scope: string, op: string, inputs: string[], attrs?: NodeSpec['attrs']) => {
    const output = scoped ? `${scope}/${op}_output_0` : `${op.toLowerCase()}_${count}`;
    count++;
    nodes.push({ op, inputs, output, attrs });
    return output;
  };
  const conv = (scope: string, x: string, cin: number, cout: number, k: number, stride = 1) => {
    const w = `${scope}.weight`;
    inits[w] = weights([cout, cin, k, k], 10 + count, Math.sqrt(3 / (cin * k * k)));
    inits[`${scope}.bias`] = weights([cout], 50 + count, 0.2);
    const p = (k - 1) / 2;
    return add(scope, 'Conv', [x, w, `${scope}.bias`], { kernel_shape: ints([k, k]), strides: ints([stride, stride]), pads: ints([p, p, p, p]) });
  };
  const block = (scope: string, x: string, cin: number, cout: number, stride: number) => {
    const skip = stride === 1 && cin === cout ? x : conv(`${scope}/downsample/downsample.0`, x, cin, cout, 1, stride);
    const branch = conv(`${scope}/conv2`, add(`${scope}/relu`, 'Relu', [conv(`${scope}/conv1`, x, cin, cout, 3, stride)]), cout, cout, 3);
    return add(`${scope}/relu_1`, 'Relu', [add(scope, 'Add', [branch, skip])]);
  };
  const stem = add('/maxpool', 'MaxPool', [add('/relu', 'Relu', [conv('/conv1', 'x', 3, 4, 3, 2)])], {
    kernel_shape: ints([3, 3]),
    strides: ints([2, 2]),
    pads: ints([1, 1, 1, 1]),
  });
  const layer1 = block('/layer1/layer1.0', stem, 4, 4, 1);
  const layer2 = block('/layer2/layer2.1', block('/layer2/layer2.0', layer1, 4, 8, 2), 8, 8, 1);
  const pooled = add('', 'Flatten', [add('/avgpool', 'GlobalAveragePool', [layer2])]);
  inits['fc.weight'] = weights([10, 8], 90);
  inits['fc.bias'] = weights([10], 91);
  nodes.push({ op: 'Gemm', inputs: [pooled, 'fc.weight', 'fc.bias'], output: 'logits', attrs: { transB: { i: 1 } } });
  return buildModel({ nodes, inits, outputs: ['logits'] });
}

/** What the blocks of the scoped network must be (METHODS §7). */
const EXPECTED: ResidualBlock[] = [
  {
    name: 'layer1.0',
    inAfterRelu: '/maxpool/MaxPool_output_0',
    inBeforeRelu: null,
    pre: '/layer1/layer1.0/conv2/Conv_output_0',
    postBeforeRelu: '/layer1/layer1.0/Add_output_0',
    postAfterRelu: '/layer1/layer1.0/relu_1/Relu_output_0',
    channels: 4,
  },
  {
    name: 'layer2.0',
    inAfterRelu: '/layer2/layer2.0/downsample/downsample.0/Conv_output_0',
    inBeforeRelu: null,
    pre: '/layer2/layer2.0/conv2/Conv_output_0',
    postBeforeRelu: '/layer2/layer2.0/Add_output_0',
    postAfterRelu: '/layer2/layer2.0/relu_1/Relu_output_0',
    channels: 8,
  },
  {
    name: 'layer2.1',
    inAfterRelu: '/layer2/layer2.0/relu_1/Relu_output_0',
    inBeforeRelu: '/layer2/layer2.0/Add_output_0',
    pre: '/layer2/layer2.1/conv2/Conv_output_0',
    postBeforeRelu: '/layer2/layer2.1/Add_output_0',
    postAfterRelu: '/layer2/layer2.1/relu_1/Relu_output_0',
    channels: 8,
  },
];

describe('residual blocks of a BN-fused ResNet export', () => {
  const scopedFile = path.join(dir, 'fused-resnet.onnx');
  const numberedFile = path.join(dir, 'fused-resnet-numbered.onnx');
  let model: NetworkModel;
  beforeAll(async () => {
    await initBackend();
    writeFileSync(scopedFile, fusedResNet(true));
    writeFileSync(numberedFile, fusedResNet(false));
    model = await loadModelFile(scopedFile);
  });
  afterAll(() => model.dispose());

  it('finds every block with torchvision names and its In, Pre and Post, also when the file is only inspected', async () => {
    expect(model.layers.some((l) => l.op === 'BatchNormalization')).toBe(false);
    expect(findResidualBlocks(model)).toEqual(EXPECTED);
    expect((await inspectModelFile(scopedFile)).blocks).toEqual(EXPECTED);
  });

  it('numbers the blocks of an export without module names, with the same roles', async () => {
    const blocks = (await inspectModelFile(numberedFile)).blocks;
    expect(blocks.map((b) => b.name)).toEqual(['block-0', 'block-1', 'block-2']);
    // The numbered tensors in creation order: conv_0 relu_1 maxpool_2, then per block
    // [downsample] conv1 relu conv2 Add relu_1.
    expect(blocks.map((b) => [b.inAfterRelu, b.inBeforeRelu, b.pre, b.postBeforeRelu, b.postAfterRelu])).toEqual([
      ['maxpool_2', null, 'conv_5', 'add_6', 'relu_7'],
      ['conv_8', null, 'conv_11', 'add_12', 'relu_13'],
      ['relu_13', 'add_12', 'conv_16', 'add_17', 'relu_18'],
    ]);
  });

  it('computes each block\'s In, Pre and Post as onnxruntime does', { timeout: 60_000 }, async () => {
    const names = [...new Set(EXPECTED.flatMap((b) => [b.inAfterRelu, b.pre, b.postBeforeRelu, b.postAfterRelu!]))];
    const pixels = tf.randomUniform([2, 48, 48, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
    const errors = await layerErrorsAgainstOrt(model, fusedResNet(true), names, pixels);
    pixels.dispose();
    for (const n of names) expect(errors[n], n).toBeLessThan(1e-5);
  });

  it('runs a scale-invariance analysis on the projection block and stores its results', { timeout: 120_000 }, async () => {
    const db = ProjectDb.open(path.join(dir, 'fused.artiphys'), { create: true });
    try {
      const settings = { modelId: 'fused-resnet', blocks: 'layer2.0', channels: [0, 1], size: 32, steps: 4, batchSize: 2, galleryVisualizations: false };
      const run = await runInto(db, 'scale-invariance', settings, 5, async () => loadModelFile(scopedFile));
      expect(run.status).toBe('done');
      const results = db.listResults(run.id);
      expect(results.map((r) => r.key)).toEqual(['channel/layer2.0/0', 'channel/layer2.0/1', 'block/layer2.0']);
      const [layer2] = EXPECTED.slice(1);
      for (const r of results.slice(0, 2)) {
        expect(r.data.layers).toEqual({ in: layer2.inAfterRelu, pre: layer2.pre, post: layer2.postBeforeRelu });
        expect(Number.isFinite(r.data.ratio) || r.data.silent).toBe(true);
        expect(r.imageIds).toHaveLength(3); // X_In, X_Pre and S(X_In)
      }
      expect(results[2].data).toMatchObject({ block: 'layer2.0', tested: 2, channels: 8 });
    } finally {
      db.close();
    }
  });
});
