// The one interface every network exposes to the analyses, whatever format it came from.
import * as tf from '@tensorflow/tfjs';
import type { InputConvention, LayerInfo, ModelFormat } from '../../shared/domain';
import { rfSizedSide } from '../../shared/math/receptive-field';

/**
 * A loaded network. Images enter as pixel batches: float32 NHWC, RGB, values 0..255; the model
 * applies its own input convention inside `forward`, so gradients flow back to pixels.
 * Layer outputs are NHWC ([N, H, W, C]) or [N, C] for layers without spatial layout.
 */
export interface NetworkModel {
  readonly name: string;
  readonly format: ModelFormat;
  readonly inputConvention: InputConvention;
  readonly layers: readonly LayerInfo[];
  /**
   * Runs the network on `pixels` and returns the requested layers' outputs. Execution stops at
   * the deepest requested layer. The caller owns (and disposes) the returned tensors; call it
   * inside tf.tidy or tf.grad to have intermediates freed.
   */
  forward(pixels: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor>;
  /**
   * `forward` for objectives that read some layers at one position only (a unit): those layers
   * are computed at `at[layer]` alone, as [N, 1, 1, C], where the model can (a convolution of a
   * tensor the pass computes anyway: VGG-19 relu3_1 at its RF-sized input is then one 3 x 3
   * window instead of the 6 x 6 map); `restricted` names them, the others come back whole. A
   * restricted layer with `channels` given holds just those, [N, 1, 1, K], in that order.
   */
  forwardAt?(
    pixels: tf.Tensor4D,
    layers: readonly string[],
    at: LayerPositions,
    channels?: LayerChannels,
  ): { acts: Record<string, tf.Tensor>; restricted: ReadonlySet<string> };
  /**
   * Runs only the part of the network between the given layer tensors and `layers` (all of
   * whose image dependence must go through the given ones): one pass up to a layer, then many
   * tails from it. The given tensors stay the caller's. Graph models only.
   */
  forwardFrom?(given: Readonly<Record<string, tf.Tensor>>, layers: readonly string[]): Record<string, tf.Tensor>;
  /** The computation graph (image-dependent nodes in execution order), for finding structure. */
  graphNodes?(): readonly GraphNodeInfo[];
  /** A copy with freshly initialized weights (fixed seed), same architecture and convention. */
  withRandomWeights(seed: number): NetworkModel;
  dispose(): void;
}

/** One spatial position [y, x] of a layer's output, for each of some layers. */
export type LayerPositions = Readonly<Record<string, readonly [number, number]>>;

/** Output channels read of some layers (ascending, no repeats). */
export type LayerChannels = Readonly<Record<string, readonly number[]>>;

export interface GraphNodeInfo {
  op: string;
  /** Input tensor names that depend on the image (weights and constants left out). */
  inputs: readonly string[];
  /** The node's output tensor: the layer name. */
  output: string;
}

/**
 * Converts RGB 0..255 pixels to the model's input space (differentiable): a per-channel
 * x * gain + offset, whose factors of 1 and terms of 0 are left out (each op costs as much as its
 * arithmetic on the small images of a diverse step). One taped op: its gradient is dy * gain,
 * where the tape's gradients of a copy and a broadcast sum would add a cast and a reshape.
 */
export function applyInputConvention(pixels: tf.Tensor4D, c: InputConvention): tf.Tensor4D {
  const bgr = c.channelOrder === 'BGR';
  const gain = c.std.map((s) => (c.scale === 1 ? 1 / 255 : 1) / s);
  const offset = c.mean.map((m, i) => -m / c.std[i]);
  const unitGain = gain.every((g) => g === 1);
  const convert = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // A copy where nothing changes: callers may dispose what this returns. Gain and offset are
    // in the model's channel order.
    const x = bgr ? tf.reverse(args[0] as tf.Tensor4D, 3) : tf.clone(args[0] as tf.Tensor4D);
    const scaled = unitGain ? x : tf.mul(x, tf.tensor1d(gain));
    return {
      value: offset.every((o) => o === 0) ? scaled : tf.add(scaled, tf.tensor1d(offset)),
      gradFunc: (dy: tf.Tensor) => {
        const dx = unitGain ? dy : tf.mul(dy, tf.tensor1d(gain));
        return bgr ? tf.reverse(dx, 3) : tf.clone(dx);
      },
    };
  });
  return tf.tidy(() => convert(pixels) as tf.Tensor4D);
}

/** The model's "zero" image: its mean pixel, in RGB 0..255 (METHODS: zero of a synthesized image). */
export function meanPixel(c: InputConvention): [number, number, number] {
  const k = c.scale === 1 ? 255 : 1;
  const m = c.mean.map((v) => v * k) as [number, number, number];
  return c.channelOrder === 'BGR' ? [m[2], m[1], m[0]] : m;
}

export function findLayer(model: NetworkModel, name: string): LayerInfo {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) {
    const known = model.layers.map((l) => l.name);
    throw new Error(
      `model ${model.name} has no layer "${name}"; layers: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''}`,
    );
  }
  return layer;
}

/**
 * The smallest input side whose central unit of `layer` (index floor(m/2) of the m output
 * positions) sees its whole receptive field inside the image (METHODS §1). This is the RF size
 * when the unit grid lines up with pixel 0; otherwise (e.g. VGG-19 relu3_1: RF 24 with its first
 * complete RF starting at pixel 2) the image is larger by that misalignment, and the extra first
 * rows and columns lie outside the RF, so the unit's gradient there is exactly zero.
 */
export function rfSizedInput(layer: LayerInfo): number {
  // A transformer's position embedding fixes its token grid, and so its input size.
  if (layer.tokens) return layer.tokens.inputSize;
  if (!layer.rf) throw new Error(`layer ${layer.name} has no spatial receptive field`);
  return rfSizedSide(layer.rf).side;
}
