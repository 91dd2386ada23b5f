// Receptive fields (METHODS §1): closed-form cases of the arithmetic, the figures of the shared
// networks, and the defining property checked by gradients: for the central unit of an RF-sized
// input, pixels outside the RF get exactly zero gradient and every RF edge has a non-zero one.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import type { GraphModel } from '../../../src/main/engine/graph/executor';
import { findLayer, rfSizedInput } from '../../../src/main/engine/model';
import { loadModelFile } from '../../../src/main/engine/models/load';
import type { LayerInfo } from '../../../src/shared/domain';
import {
  PIXEL_RF,
  mergeRFs,
  rfSizedSide,
  rfSpan,
  throughPad,
  throughTransposedWindow,
  throughWindow,
} from '../../../src/shared/math/receptive-field';
import { randomArray } from './onnx-builder';
import { RESNET_FILE, VGG_FILE } from './reference';

const conv = (kernel: number, stride = 1, padBegin = 0, dilation = 1) => ({ kernel, stride, padBegin, dilation });

describe('receptive-field arithmetic', () => {
  it('stacks windows: two 3x3 convs see 5 px, a stride-2 pool doubles the jump', () => {
    const two = throughWindow(throughWindow(PIXEL_RF, conv(3, 1, 1)), conv(3, 1, 1));
    expect(two).toEqual({ size: 5, jump: 1, offset: 0 });
    const pooled = throughWindow(two, conv(2, 2));
    expect(pooled).toEqual({ size: 6, jump: 2, offset: 0.5 });
    // Unit 0 of a 3x3 conv with pad 1 is centred on pixel 0 and reaches one pixel into the padding.
    expect(rfSpan(throughWindow(PIXEL_RF, conv(3, 1, 1)), 0)).toEqual([-1, 1]);
    // Dilation 2 spreads a 3-tap kernel over 5 pixels.
    expect(throughWindow(PIXEL_RF, conv(3, 1, 0, 2)).size).toBe(5);
  });

  it('padding shifts the grid; transposed windows divide the jump; merges take the union', () => {
    expect(throughPad({ size: 3, jump: 2, offset: 1 }, 2)).toEqual({ size: 3, jump: 2, offset: -3 });
    const up = throughTransposedWindow({ size: 4, jump: 4, offset: 1.5 }, conv(2, 2));
    expect(up.jump).toBe(2);
    expect(up.size).toBe(4); // a 2-tap, stride-2 transposed conv gives each output one input
    expect(mergeRFs([{ size: 5, jump: 2, offset: 0 }, { size: 3, jump: 2, offset: 0 }])).toEqual({ size: 5, jump: 2, offset: 0 });
    expect(mergeRFs([{ size: 3, jump: 1, offset: 0 }, { size: 3, jump: 1, offset: 2 }])).toEqual({ size: 5, jump: 1, offset: 1 });
  });

  it('RF-sized side: exact when the grid reaches pixel 0, larger by the misalignment otherwise', () => {
    expect(rfSizedSide({ size: 5, jump: 1, offset: 0 })).toEqual({ side: 5, unit: 2, start: 0 });
    // First RF start at -10 with jump 4: the first whole RF starts at pixel 2.
    expect(rfSizedSide({ size: 24, jump: 4, offset: 1.5 })).toEqual({ side: 26, unit: 3, start: 2 });
  });
});

/** |d(unit)/d(pixels)| summed over a batch of images; the unit is channel `channel` at output (k, k). */
function unitGradient(model: GraphModel, layer: string, pixels: tf.Tensor4D, k: number, channel: number): Float32Array {
  return tf.tidy(() => {
    const unit = (x: tf.Tensor) => tf.sum(tf.slice(model.forward(x as tf.Tensor4D, [layer])[layer], [0, k, k, channel], [-1, 1, 1, 1])) as tf.Scalar;
    return tf.sum(tf.abs(tf.grad(unit)(pixels)), [0, 3]).dataSync() as Float32Array;
  });
}

/**
 * The METHODS §1 check on the central unit of an RF-sized input. The channel is the most active
 * one on the first image. Max pooling routes the gradient to one pixel per window, so one image
 * may leave an edge without gradient; the edges are checked on the sum over a few random images.
 */
function checkZeroGradient(model: GraphModel, layerName: string, seed: number, images = 4): void {
  const layer = findLayer(model, layerName);
  const n = rfSizedInput(layer);
  const [m] = model.layerShapesAt(n, n, [layerName]).get(layerName)!;
  const k = Math.floor(m / 2);
  const [start, end] = rfSpan(layer.rf!, k);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBe(n - 1);

  const pixels = tf.tensor4d(randomArray(images * n * n * 3, seed, 127.5).map((v) => v + 127.5), [images, n, n, 3]);
  const acts = tf.tidy(() => model.forward(pixels, [layerName])[layerName].slice([0, k, k, 0], [1, 1, 1, -1]).dataSync());
  const channel = acts.indexOf(Math.max(...acts));
  expect(acts[channel]).toBeGreaterThan(0);
  const grad = unitGradient(model, layerName, pixels, k, channel);
  pixels.dispose();

  const g = (y: number, x: number) => grad[y * n + x];
  let outside = 0;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (y < start || y > end || x < start || x > end) outside += g(y, x);
  expect(outside).toBe(0);
  const edge = (pick: (i: number) => [number, number]) => {
    let s = 0;
    for (let i = start; i <= end; i++) s += g(...pick(i));
    return s;
  };
  expect(edge((i) => [start, i]), 'top edge').toBeGreaterThan(0);
  expect(edge((i) => [end, i]), 'bottom edge').toBeGreaterThan(0);
  expect(edge((i) => [i, start]), 'left edge').toBeGreaterThan(0);
  expect(edge((i) => [i, end]), 'right edge').toBeGreaterThan(0);
}

/** For every spatial layer the central unit of its RF-sized input is the unit whose RF ends on the last pixel. */
function checkRfSizedInputs(model: GraphModel, layers: readonly LayerInfo[]): void {
  for (const layer of layers) {
    if (!layer.rf) continue;
    const n = rfSizedInput(layer);
    const [m] = model.layerShapesAt(n, n, [layer.name]).get(layer.name)!;
    const [start, end] = rfSpan(layer.rf, Math.floor(m / 2));
    expect([start >= 0, end], layer.name).toEqual([true, n - 1]);
  }
}

describe('receptive fields of the shared networks', () => {
  let vgg: GraphModel;
  let resnet: GraphModel;
  beforeAll(async () => {
    await initBackend();
    vgg = (await loadModelFile(VGG_FILE)) as GraphModel;
    resnet = (await loadModelFile(RESNET_FILE)) as GraphModel;
  });
  afterAll(() => {
    vgg.dispose();
    resnet.dispose();
  });

  it('VGG-19: relu3_1 sees 24 px with jump 4; pool3 52 px with jump 8', () => {
    expect(findLayer(vgg, 'relu3_1').rf).toMatchObject({ size: 24, jump: 4 });
    expect(findLayer(vgg, 'pool3').rf).toMatchObject({ size: 52, jump: 8 });
  });

  it('ResNet-50 v1: the stride on the 1x1 convs gives layer4 the published RF of 483 px, jump 32', () => {
    // 483 is the figure for resnet_v1_50 in Araujo et al., "Computing receptive fields of CNNs", Distill 2019.
    expect(findLayer(resnet, 'layer4').rf).toMatchObject({ size: 483, jump: 32 });
    expect(findLayer(resnet, 'layer1').rf).toMatchObject({ size: 35, jump: 4 });
    expect(findLayer(resnet, 'logits').rf).toBeUndefined();
  });

  it('every RF-sized input puts the central unit RF wholly inside the image, ending on its last pixel', () => {
    checkRfSizedInputs(vgg, vgg.layers);
    checkRfSizedInputs(resnet, resnet.layers);
  });

  it('VGG-19: zero gradient outside the RF, non-zero on every RF edge (relu3_1, pool3)', () => {
    checkZeroGradient(vgg, 'relu3_1', 1);
    checkZeroGradient(vgg, 'pool3', 2);
  });

  it('ResNet-50: zero gradient outside the RF, non-zero on every RF edge (layer1, a layer2 block, layer2)', () => {
    checkZeroGradient(resnet, 'layer1', 3);
    checkZeroGradient(resnet, '/layer2/layer2.0/relu_2/Relu_output_0', 4);
    checkZeroGradient(resnet, 'layer2', 5);
  });
});
