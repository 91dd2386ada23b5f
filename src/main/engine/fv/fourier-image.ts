// The Lucid/Lucent image parameterization of METHODS §6: each image is a half spectrum whose
// coefficients are scaled by 1 / max(|f|, 1 / max(H, W)) (|f| in cycles per pixel), brought to
// pixels by an orthonormal inverse real DFT divided by 4, colour-decorrelated, squashed by a
// sigmoid into 0..1 and scaled to the 0..255 pixels the models take (each model then applies its
// own input normalization). The spectrum scaling makes every spatial frequency move at about
// the same speed under gradient ascent, so images do not fill up with high-frequency noise.
import * as tf from '@tensorflow/tfjs';
import { acquireDftBasis, frequencyMagnitudes, irfft2d, releaseDftBasis, type DftBasis } from '../fourier';
import { gaussianNoise, type ImageParameterization } from './parameterization';

/** Square root of ImageNet's colour correlation (Lucid), rows = RGB output. */
const COLOR_CORRELATION_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/** The decorrelation matrix divided by its largest column norm (row-major 3x3). */
export function colorDecorrelation(): Float32Array {
  const m = COLOR_CORRELATION_SQRT;
  const colNorm = [0, 1, 2].map((j) => Math.hypot(m[0][j], m[1][j], m[2][j]));
  const max = Math.max(...colNorm);
  return Float32Array.from(m.flat().map((v) => v / max));
}

/** Per half-spectrum entry [H, floor(W/2)+1]: 1 / max(|f|, 1 / max(H, W)), |f| in cycles per pixel. */
export function spectrumScale(height: number, width: number): Float32Array {
  const floor = 1 / Math.max(height, width);
  return frequencyMagnitudes(height, width, 'cycles-per-pixel').map((f) => 1 / Math.max(f, floor));
}

export interface FourierImagesOptions {
  /** One seed per image. */
  seeds: readonly number[];
  height: number;
  width: number;
  /** Standard deviation of the initial coefficients (METHODS: 0.01). */
  initStd?: number;
}

/**
 * Images as scaled half spectra. The variable is [N, H, floor(W/2)+1, 6]: the real parts of the
 * three decorrelated colour planes, then their imaginary parts.
 */
export class FourierImages implements ImageParameterization {
  readonly variable: tf.Variable<tf.Rank.R4>;
  readonly spatialGradient = false;
  private readonly basis: DftBasis;
  private readonly scale: tf.Tensor4D;
  private readonly colour: tf.Tensor2D;

  constructor(readonly options: FourierImagesOptions) {
    const { seeds, height, width } = options;
    if (seeds.length === 0) throw new Error('Fourier images: no images requested');
    this.basis = acquireDftBasis(height, width);
    const half = this.basis.halfWidth;
    const size = height * half * 6;
    const std = options.initStd ?? 0.01;
    const data = new Float32Array(seeds.length * size);
    seeds.forEach((s, i) => data.set(gaussianNoise(size, s).map((v) => v * std), i * size));
    this.variable = tf.tidy(() => tf.variable(tf.tensor4d(data, [seeds.length, height, half, 6])));
    this.scale = tf.keep(tf.tensor4d(spectrumScale(height, width), [1, height, half, 1]));
    // rgb_i = sum_j C[i, j] t_j, as a product of [pixels, 3] rows with C transposed.
    this.colour = tf.tidy(() => tf.keep(tf.transpose(tf.tensor2d(colorDecorrelation(), [3, 3]))));
  }

  /** Replaces the given images' coefficients by fresh N(0, initStd) draws from new seeds. */
  async redraw(rows: readonly number[], seeds: readonly number[]): Promise<void> {
    if (rows.length === 0) return;
    const [, h, half, c] = this.variable.shape;
    const size = h * half * c;
    const std = this.options.initStd ?? 0.01;
    const data = ((await this.variable.data()) as Float32Array).slice();
    rows.forEach((r, i) => data.set(gaussianNoise(size, seeds[i]).map((v) => v * std), r * size));
    tf.tidy(() => this.variable.assign(tf.tensor4d(data, this.variable.shape)));
  }

  /** Decorrelated-colour images before the sigmoid, [N, H, W, 3]. */
  linearImages(): tf.Tensor4D {
    return tf.tidy(() => {
      const [n, h, half] = this.variable.shape;
      const re = tf.mul(tf.slice(this.variable, [0, 0, 0, 0], [n, h, half, 3]), this.scale);
      const im = tf.mul(tf.slice(this.variable, [0, 0, 0, 3], [n, h, half, 3]), this.scale);
      return tf.div(irfft2d({ re: re as tf.Tensor4D, im: im as tf.Tensor4D }, this.basis, 'ortho'), 4) as tf.Tensor4D;
    });
  }

  render(): tf.Tensor4D {
    return tf.tidy(() => {
      const x = this.linearImages();
      const [n, h, w] = x.shape;
      const rgb = tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, 3]), this.colour), [n, h, w, 3]);
      return tf.mul(tf.sigmoid(rgb), 255) as tf.Tensor4D;
    });
  }

  /** Unconstrained: the sigmoid keeps pixels in range. */
  constrain(): void {}

  dispose(): void {
    tf.dispose([this.variable, this.scale, this.colour]);
    releaseDftBasis(this.basis);
  }
}
