// How the optimized images are represented (the Lucent "param" part): a variable the optimizer
// updates, a differentiable map from it to pixel images, and the constraint restored after each
// step. Pixel images with a norm constraint serve METHODS §2; the Fourier, colour-decorrelated
// parameterization of §6 implements the same interface.
import * as tf from '@tensorflow/tfjs';
import { gaussian, mulberry32 } from '../../../shared/math/random';

export interface ImageParameterization {
  /** The optimized state; its first axis holds the rows (images, textures) the loop groups. */
  readonly variable: tf.Variable;
  /** Model input pixels (RGB 0..255, NHWC) as a differentiable function of `variable`. */
  render(): tf.Tensor4D;
  /**
   * True when the gradient is an image batch [rows, H, W, C] that the loop may precondition in
   * the Fourier domain (pixel images); false where the parameterization is spectral already.
   */
  readonly spatialGradient: boolean;
  /**
   * Stochastic parameterizations (a random subset of crops per step) draw the next subset here;
   * the loop calls it before every step (optional).
   */
  resample?(step: number): void;
  /** Drops from a gradient the part the constraint would undo anyway (optional). */
  projectGradient?(grad: tf.Tensor): tf.Tensor;
  /** Restores the constraint after an optimizer step. */
  constrain(): void;
  dispose(): void;
}

/** Standard normal deviates from a seed (Box-Muller on mulberry32), identical on every backend. */
export function gaussianNoise(count: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = gaussian(rand);
  return out;
}

export interface PixelImagesOptions {
  /** One seed per image: each image's starting noise depends on its own seed only. */
  seeds: readonly number[];
  height: number;
  width: number;
  /** L2 norm of each image's deviation from `meanPixel`, in pixel units (0..255 scale). */
  norm: number;
  /** The model's "zero" image, RGB 0..255. */
  meanPixel: readonly [number, number, number];
  /**
   * Remove the radial part of each image's gradient before the optimizer step. Adam scales every
   * pixel's step to about the learning rate, so under a norm constraint an unprojected radial
   * gradient turns into a push towards sign(gradient) images that the rescaling cannot undo.
   */
  tangentGradient: boolean;
}

/**
 * Images that start as white noise and are held at a fixed L2 norm (METHODS §2). The variable is
 * the deviation from the mean pixel in units of the images' RMS contrast (so its RMS is 1 and
 * a learning rate of 0.1 moves a pixel by a tenth of the contrast, whatever the model's scale).
 */
export class PixelImages implements ImageParameterization {
  readonly variable: tf.Variable<tf.Rank.R4>;
  readonly spatialGradient = true;
  /** Pixel units per variable unit. */
  readonly rms: number;
  private readonly mean: tf.Tensor1D;
  private readonly unitNorm: number;

  constructor(readonly options: PixelImagesOptions) {
    const { seeds, height, width, norm } = options;
    if (!(norm > 0)) throw new Error(`image norm must be positive, got ${norm}`);
    if (seeds.length === 0) throw new Error('pixel images: no images requested');
    const size = height * width * 3;
    this.unitNorm = Math.sqrt(size);
    this.rms = norm / this.unitNorm;
    const data = new Float32Array(seeds.length * size);
    seeds.forEach((s, i) => data.set(gaussianNoise(size, s), i * size));
    this.mean = tf.keep(tf.tensor1d([...options.meanPixel]));
    this.variable = tf.tidy(() => tf.variable(tf.tensor4d(data, [seeds.length, height, width, 3])));
    this.constrain();
  }

  /** Replaces the given images by fresh noise from new seeds (at the same norm). */
  async redraw(rows: readonly number[], seeds: readonly number[]): Promise<void> {
    if (rows.length === 0) return;
    const [, h, w] = this.variable.shape;
    const size = h * w * 3;
    const data = ((await this.variable.data()) as Float32Array).slice();
    rows.forEach((r, i) => data.set(gaussianNoise(size, seeds[i]), r * size));
    tf.tidy(() => this.variable.assign(tf.tensor4d(data, this.variable.shape)));
    this.constrain();
  }

  /** One taped op (the tape's gradients of the product and the broadcast sum would add a cast and a reshape). */
  render(): tf.Tensor4D {
    const rms = this.rms;
    const pixels = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.add(tf.mul(args[0] as tf.Tensor, rms), this.mean),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, rms),
    }));
    return tf.tidy(() => pixels(this.variable) as tf.Tensor4D);
  }

  projectGradient(grad: tf.Tensor): tf.Tensor {
    if (!this.options.tangentGradient) return grad;
    return tf.tidy(() => {
      const v = this.variable;
      // (g . v) / |v|^2 per image; |v| is unitNorm, restored after every change of the variable.
      const radial = tf.mul(tf.sum(tf.mul(grad, v), [1, 2, 3], true), 1 / this.unitNorm ** 2);
      return tf.sub(grad, tf.mul(radial, v));
    });
  }

  constrain(): void {
    tf.tidy(() => {
      const norms = tf.sqrt(tf.sum(tf.square(this.variable), [1, 2, 3], true));
      this.variable.assign(tf.mul(this.variable, tf.div(this.unitNorm, tf.maximum(norms, 1e-12))));
    });
  }

  dispose(): void {
    tf.dispose([this.variable, this.mean]);
  }
}
