// Image priors log P(x) for feature visualization (METHODS §2). The interface takes pixel images
// so a learned prior (for example a PixelCNN++ exported to ONNX) plugs in the same way as the
// built-in stationary Gaussian prior, which is evaluated in closed form in the Fourier domain.
import * as tf from '@tensorflow/tfjs';
import { frequencyMagnitudes, halfSpectrumWeights, planeFilter, type PlaneFilter } from '../fourier';

export interface ImagePrior {
  readonly name: string;
  /**
   * log P of each image of `pixels` (RGB 0..255, NHWC), in nats: a tensor [N], differentiable;
   * with `groupSize`, summed over each run of that many consecutive images: [N / groupSize].
   */
  logDensity(pixels: tf.Tensor4D, groupSize?: number): tf.Tensor1D;
  dispose(): void;
}

/**
 * A stationary power spectrum falling as a power of frequency:
 * PSD(f) = amplitude * max(|f|, fMin)^-exponent, |f| in cycles per pixel and fMin one cycle per
 * image (1 / max(H, W)), so the DC term gets the variance of the lowest frequency.
 */
export interface PowerLawSpectrum {
  amplitude: number;
  exponent: number;
  /** Mean pixel of the images the spectrum was fitted to, RGB 0..255. */
  mean: [number, number, number];
}

/**
 * Power spectral density of every half-spectrum entry for an H x W image, [H, floor(W/2)+1]
 * row-major: the expected |X(f)|^2 / (H W) of an unnormalized DFT.
 */
export function spectrumGrid(s: PowerLawSpectrum, height: number, width: number): Float32Array {
  const fMin = 1 / Math.max(height, width);
  return frequencyMagnitudes(height, width, 'cycles-per-pixel').map((f) => s.amplitude * Math.max(f, fMin) ** -s.exponent);
}

/**
 * Gaussian prior with the covariance of a stationary process of the given spectrum, the three
 * colour channels independent. For an H x W channel with DFT X and N = H W,
 *   log P = -1/2 [ (1/N) sum_f |X(f)|^2 / PSD(f) + sum_f log PSD(f) + N log(2 pi) ].
 * The quadratic term is x . C^-1 x with C^-1 the filter of gain 1 / PSD, and its gradient is
 * -C^-1 x: one filter pass forward, none backward (a custom gradient instead of differentiating
 * through the transforms).
 */
export class GaussianSpectrumPrior implements ImagePrior {
  readonly name = 'gaussian-1/f';
  /** C^-1: the filter of gain 1 / PSD(f). */
  private readonly inverseCovariance: PlaneFilter;
  private readonly mean: tf.Tensor1D;
  /** The normalizing constant per channel: -1/2 (sum_f log PSD + N log 2 pi). */
  private readonly logNormalizer: number;

  constructor(
    readonly spectrum: PowerLawSpectrum,
    readonly height: number,
    readonly width: number,
  ) {
    if (!(spectrum.amplitude > 0) || !Number.isFinite(spectrum.exponent)) {
      throw new Error(`Gaussian prior: amplitude must be positive and exponent finite, got ${spectrum.amplitude}, ${spectrum.exponent}`);
    }
    const n = height * width;
    const psd = spectrumGrid(spectrum, height, width);
    const colWeights = halfSpectrumWeights(width);
    const half = colWeights.length;
    let sumLog = 0;
    psd.forEach((p, i) => (sumLog += colWeights[i % half] * Math.log(p)));
    this.logNormalizer = -0.5 * (sumLog + n * Math.log(2 * Math.PI));
    this.inverseCovariance = planeFilter(height, width, psd.map((p) => 1 / p));
    this.mean = tf.keep(tf.tensor1d(spectrum.mean));
  }

  logDensity(pixels: tf.Tensor4D, groupSize = 1): tf.Tensor1D {
    const [rows, h, w, c] = pixels.shape;
    if (!Number.isInteger(rows / groupSize)) throw new Error(`prior: ${rows} images do not split into groups of ${groupSize}`);
    const groups = rows / groupSize;
    // One taped op, group sums included: the tape's gradients of a reshape and a sum after it
    // would be four more small kernels.
    const density = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[1] as tf.GradSaveFunc;
      // The deviation from the mean pixel, negated: -d, so that C^-1 (-d) is the gradient itself.
      const negated = tf.sub(this.mean, args[0] as tf.Tensor4D) as tf.Tensor4D;
      const gradient = this.inverseCovariance.apply(negated);
      save([gradient]);
      const quadratic = tf.sum(tf.reshape(tf.mul(negated, gradient), [groups, -1]), 1);
      const value = tf.add(tf.mul(quadratic, -0.5), 3 * groupSize * this.logNormalizer);
      return {
        value,
        gradFunc: (dy, [g]) => tf.reshape(tf.mul(tf.reshape(dy, [groups, 1]), tf.reshape(g, [groups, -1])), [rows, h, w, c]),
      };
    });
    return tf.tidy(() => density(pixels) as tf.Tensor1D);
  }

  dispose(): void {
    tf.dispose(this.mean);
    this.inverseCovariance.dispose();
  }
}
