// The input convention as one taped op: values and input gradients against the closed form, for
// a BGR convention with a 0..1 scale and per-channel std, and for Caffe's mean-only convention.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { applyInputConvention } from '../../../src/main/engine/model';
import type { InputConvention } from '../../../src/shared/domain';
import { randomArray } from './onnx-builder';

describe('input convention', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const conventions: [string, InputConvention][] = [
    ['BGR, 0..1, mean and std', { channelOrder: 'BGR', scale: 1, mean: [0.4, 0.45, 0.5], std: [0.2, 0.25, 0.3], inputSize: 4 }],
    ['RGB, 0..255, mean only', { channelOrder: 'RGB', scale: 255, mean: [123.68, 116.78, 103.94], std: [1, 1, 1], inputSize: 4 }],
  ];
  for (const [name, c] of conventions) {
    it(`${name}: values and input gradient of the closed form`, async () => {
      const [n, h, w] = [2, 3, 4];
      const pixels = randomArray(n * h * w * 3, 3, 255).map(Math.abs);
      const probe = randomArray(n * h * w * 3, 4);
      const x = tf.tensor4d(pixels, [n, h, w, 3]);
      const p = tf.tensor4d(probe, [n, h, w, 3]);
      const y = await applyInputConvention(x, c).data();
      const g = await tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyInputConvention(t as tf.Tensor4D, c), p)))(x).data();
      const k = c.scale === 1 ? 1 / 255 : 1;
      for (let i = 0; i < n * h * w; i++) {
        for (let m = 0; m < 3; m++) {
          // Model channel m reads RGB channel m, or 2 - m in BGR order.
          const rgb = c.channelOrder === 'BGR' ? 2 - m : m;
          expect(y[i * 3 + m]).toBeCloseTo((pixels[i * 3 + rgb] * k - c.mean[m]) / c.std[m], 4);
          expect(g[i * 3 + rgb]).toBeCloseTo((probe[i * 3 + m] * k) / c.std[m], 5);
        }
      }
      tf.dispose([x, p]);
    });
  }
});
